// Copies that share blocks: CopyObject and UploadPartCopy make new
// references to a source version's blocks instead of new bytes (blocks are
// content-addressed). Each call checks, in the transaction that adds the
// references, that the source version is still live: a block it references
// then has a count above zero until the copy's own references are counted,
// so block GC cannot delete it in between.
//
// Blocking calls: run them off the I/O threads.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/object.h"
#include "model/version.h"
#include "util/result.h"

namespace garage::model {

class store;

// Makes a new complete version of (bucket_id, key) holding the blocks and
// parts of `data` (taken from version `source_version_id`) with `meta`.
// not_found when the source version is gone (deleted meanwhile). Returns the
// new version's id.
result<std::string> put_shared_blocks(store& s, std::string_view bucket_id, std::string_view key,
                                      object_meta meta, const version& data,
                                      std::string_view source_version_id);

// Adds blocks of version `source_version_id` to the upload `upload_id` of
// (bucket_id, key) at the given locations. not_found when the source version
// is gone; conflict when the upload was aborted.
result<void> add_shared_blocks(store& s, std::string_view upload_id, std::string_view bucket_id,
                               std::string_view key,
                               const std::vector<std::pair<block_location, version_block>>& blocks,
                               std::string_view source_version_id);

// The parts of a block-backed version: (part number, first byte, size), in
// order. A version completed from a multipart upload lists its parts (also
// those without blocks, i.e. empty); otherwise they come from the block
// locations (a plain PUT is one part).
struct part_extent {
  uint32_t part_number = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  bool operator==(const part_extent&) const = default;
};
std::vector<part_extent> part_extents(const version& v);

}  // namespace garage::model
