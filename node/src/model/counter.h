// Per-bucket counters (objects, bytes, uploads in progress), kept by the
// object table's hook in the same transaction as the object change.
//
// Each node owns one slot of the counter and adds its own deltas to it; the
// value of the counter is the sum of the slots. A slot is a last-writer-wins
// register, so the entry is a CRDT (and a cluster can merge slots from every
// node).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "util/crdt/lww.h"
#include "util/result.h"

namespace garage::model {

struct bucket_counts {
  int64_t objects = 0;
  int64_t bytes = 0;
  int64_t uploads = 0;
  auto operator<=>(const bucket_counts&) const = default;
  bucket_counts& operator+=(const bucket_counts& o) {
    objects += o.objects;
    bytes += o.bytes;
    uploads += o.uploads;
    return *this;
  }
};

struct bucket_counter {
  std::string bucket_id;
  std::map<std::string, crdt::lww<bucket_counts>> slots;  // node id (hex) → its share

  std::string partition_key() const { return bucket_id; }
  std::string sort_key() const { return {}; }
  void merge(const bucket_counter& other);
  bool is_tombstone() const { return false; }
  std::string encode() const;
  static result<bucket_counter> decode(std::string_view bytes);
  bool operator==(const bucket_counter&) const = default;

  // The sum of the slots: each node counted its own changes (a standalone
  // node has one slot).
  bucket_counts total() const;
  // Field by field, the largest slot: in a cluster every replica of the
  // bucket's partition counts every object, so the slots are copies of one
  // count, the largest being the most up to date (approximately: a slot may
  // lag behind while its node catches up).
  bucket_counts largest_slot() const;
};

}  // namespace garage::model
