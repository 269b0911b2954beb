// The block reference table: one entry per (block, version using it). Its
// schema hook keeps the block layer's reference counts: a new live reference
// increments, a reference turning deleted decrements. Blocks whose count is
// zero are deleted by the block layer after the GC delay.
#pragma once

#include <string>
#include <string_view>

#include "util/hash.h"
#include "util/result.h"

namespace garage::model {

struct block_ref {
  hash256 block;
  std::string version_id;
  bool deleted = false;

  std::string partition_key() const { return std::string(block.view()); }
  std::string sort_key() const { return version_id; }
  void merge(const block_ref& other) { deleted = deleted || other.deleted; }
  bool is_tombstone() const { return deleted; }
  std::string encode() const;
  static result<block_ref> decode(std::string_view bytes);
  bool operator==(const block_ref&) const = default;
};

}  // namespace garage::model
