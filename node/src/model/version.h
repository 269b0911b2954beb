// The version table: the blocks of one object version.
//
// Keyed by version id. Blocks are indexed by (part number, attempt, offset):
// a plain PUT uses part 0, attempt 0; an UploadPart of a multipart upload
// writes its blocks under (part number, its own timestamp), so that a part
// uploaded twice does not mix with its earlier attempt, and records the
// attempt in `parts`. CompleteMultipartUpload then makes a new version with
// the chosen attempts only (attempt 0). Merge is the union of blocks and
// parts; `deleted` is a monotonic flag that clears them (a deleted version
// keeps only its backlink, and its block references are dropped by the schema
// hook).
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
  uint64_t attempt = 0;  // UploadPart timestamp; 0 for plain and completed objects
  uint64_t offset = 0;   // within the part
  auto operator<=>(const block_location&) const = default;
};

struct version_block {
  hash256 hash;
  uint64_t size = 0;  // plain (uncompressed) size
  auto operator<=>(const version_block&) const = default;
};

// One uploaded attempt of a part of a multipart upload.
struct part_key {
  uint32_t part_number = 0;
  uint64_t attempt = 0;
  auto operator<=>(const part_key&) const = default;
};
struct part_info {
  std::string etag;  // hex MD5 of the part, without quotes
  uint64_t size = 0;
  std::string checksum{};  // raw x-amz-checksum-* value of the part (upload's algorithm), or empty
  auto operator<=>(const part_info&) const = default;
};

struct version {
  std::string id;
  bool deleted = false;
  uint64_t updated_msec = 0;  // last block or part added (max): how idle an upload is
  std::map<block_location, version_block> blocks;
  std::map<part_key, part_info> parts;  // multipart uploads only
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
