// The version table: the blocks of one object version.
//
// Keyed by version id. Blocks are indexed by (part number, offset) so that
// multipart uploads fit the same shape; a plain PUT uses part 0. Merge is the
// union of blocks; `deleted` is a monotonic flag that clears them (a deleted
// version keeps only its backlink, and its block references are dropped by
// the schema hook).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "util/hash.h"
#include "util/result.h"

namespace garage::model {

struct block_location {
  uint32_t part_number = 0;
  uint64_t offset = 0;  // within the part
  auto operator<=>(const block_location&) const = default;
};

struct version_block {
  hash256 hash;
  uint64_t size = 0;  // plain (uncompressed) size
  auto operator<=>(const version_block&) const = default;
};

struct version {
  std::string id;
  bool deleted = false;
  std::map<block_location, version_block> blocks;
  // Which object this version belongs to.
  std::string bucket_id;
  std::string key;

  std::string partition_key() const { return id; }
  std::string sort_key() const { return {}; }
  void merge(const version& other);
  bool is_tombstone() const { return deleted; }
  std::string encode() const;
  static result<version> decode(std::string_view bytes);
  bool operator==(const version&) const = default;
};

}  // namespace garage::model
