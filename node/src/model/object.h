// The object table: for each (bucket id, object key), the CRDT list of the
// object's versions.
//
// A version is created "uploading", becomes "complete" (with its data: inline
// bytes, a list of blocks in the version table, or a delete marker) or
// "aborted". Merging two object entries takes the union of their versions by
// id, each version's state moving only forward (uploading < complete <
// aborted), and then drops every version older than the newest complete one:
// the newest complete version is the object, uploads newer than it are still
// in flight. The laws (commutative, associative, idempotent) are tested in
// tests/unit/model. They hold under the protocol's invariant that a version is
// completed or aborted, never both: both transitions start from "uploading"
// and are decided in one transaction on the node running the upload (a
// cluster must keep that invariant when it adds remote aborts).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/checksum.h"
#include "util/result.h"

namespace garage::model {

using header_list = std::vector<std::pair<std::string, std::string>>;

// An S3 additional checksum of an object or part.
struct object_checksum {
  checksum_algorithm algorithm = checksum_algorithm::crc32;
  // Multipart COMPOSITE: the checksum of the parts' raw checksums, shown with
  // "-<part_count>"; otherwise (FULL_OBJECT) the checksum of the whole data.
  bool composite = false;
  uint32_t part_count = 0;
  std::string value;  // raw bytes (base64 on the wire)
  bool operator==(const object_checksum&) const = default;
  auto operator<=>(const object_checksum&) const = default;
};

// What GET and HEAD return besides the bytes.
struct object_meta {
  uint64_t size = 0;
  std::string etag;     // without quotes
  header_list headers;  // content-type, cache-control, x-amz-meta-*, ... (lower-case names)
  // SSE-C: the raw 16-byte MD5 of the customer key the data (blocks or inline
  // bytes) is encrypted with; empty when stored in plain. Never the key itself.
  std::string sse_c_key_md5{};
  // The additional checksum (x-amz-checksum-*), when the client gave one or an
  // upload was started with an algorithm (then value is empty until complete).
  std::optional<object_checksum> checksum{};
  // Object tags (x-amz-tagging, PutObjectTagging): last writer wins by
  // tags_timestamp, independently of the rest of the version (see merge).
  header_list tags{};
  uint64_t tags_timestamp = 0;
  bool operator==(const object_meta&) const = default;
};

enum class version_state : uint8_t { uploading = 0, complete = 1, aborted = 2 };
enum class version_data : uint8_t { none = 0, delete_marker = 1, inline_bytes = 2, blocks = 3 };

struct object_version {
  std::string id;          // version id (hex); also the version table key for block data
  uint64_t timestamp = 0;  // CRDT timestamp (ms, hybrid)
  version_state state = version_state::uploading;
  bool multipart = false;                  // an uploading multipart upload
  version_data data = version_data::none;  // set when complete
  object_meta meta;         // set when complete (for uploading: the headers given at start)
  std::string inline_data;  // data == inline_bytes

  bool is_complete() const { return state == version_state::complete; }
  // Complete and not a delete marker: what GET serves.
  bool is_data() const { return is_complete() && data != version_data::delete_marker; }
  bool operator==(const object_version&) const = default;
};

struct object {
  std::string bucket_id;
  std::string key;
  std::vector<object_version> versions;  // sorted by (timestamp, id)

  std::string partition_key() const { return bucket_id; }
  std::string sort_key() const { return key; }
  void merge(const object& other);
  // Only a delete marker left (or nothing): can be dropped after the GC delay.
  bool is_tombstone() const;
  std::string encode() const;
  static result<object> decode(std::string_view bytes);
  bool operator==(const object&) const = default;

  // The newest complete version, if any (may be a delete marker).
  const object_version* last_complete() const;
  // The newest version with data, i.e. what GET returns (null: no such object).
  const object_version* current() const;
  const object_version* find(std::string_view version_id) const;
};

}  // namespace garage::model
