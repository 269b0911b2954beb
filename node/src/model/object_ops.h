// Operations on objects, as the S3 API uses them. Each call is one atomic
// metadata transaction; block bytes are written by the caller through
// store.blocks() before the version references them.
//
// A large PUT is: begin_upload → (blocks().put + add_block)* → complete_upload,
// or abort_upload on any failure (a client gone, a bad digest). An upload left
// hanging by a crash is aborted by store::maintenance after
// upload_timeout_secs. Until complete_upload, readers keep seeing the previous
// version.
//
// Blocking calls: run them off the I/O threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/object.h"
#include "model/version.h"
#include "util/result.h"

namespace garage::model {

class store;

result<std::optional<object>> get_object(store& s, std::string_view bucket_id,
                                         std::string_view key);
result<version> get_version(store& s, std::string_view version_id);
// The same for reading an object's data, whose size is known: in a cluster,
// this node's copy is used without asking a quorum when it is visibly
// complete (one part, blocks contiguous from 0 adding up to `size`); a
// version's block list never changes once its object completed.
result<version> get_version_for_read(store& s, std::string_view version_id, uint64_t size);

// A conditional write (If-None-Match / If-Match on PutObject and
// CompleteMultipartUpload), checked in the transaction that commits the write,
// so that of two conditional creates of one key at most one succeeds.
// Failures: already_exists (the precondition does not hold: S3's 412), and
// not_found with message kIfMatchNoObject (If-Match and no object: 404).
struct write_precondition {
  bool if_none_match_any = false;       // If-None-Match: *
  std::optional<std::string> if_match;  // If-Match: the ETag (unquoted) or "*"
  bool any() const { return if_none_match_any || if_match.has_value(); }
};
inline constexpr std::string_view kIfMatchNoObject = "If-Match: there is no such object";
// Checks `pre` against the object as it is (nullopt: no entry).
result<void> check_precondition(const std::optional<object>& existing,
                                const write_precondition& pre);

// Stores a small object inline in the object entry. Returns the version id.
result<std::string> put_inline(store& s, std::string_view bucket_id, std::string_view key,
                               object_meta meta, std::string data,
                               const write_precondition& pre = {});

// Starts a block-backed upload. For a multipart upload (the returned version
// id is its upload id), `headers` are kept for the completed object.
result<std::string> begin_upload(store& s, std::string_view bucket_id, std::string_view key,
                                 bool multipart, header_list headers = {});
// The same, keeping a whole initial meta (headers, tags, checksum algorithm).
// `version_id` (from new_version_id()) lets a caller in a cluster reference
// blocks from the new version while this call is still on its way: blocks
// and the upload's object entry then cost one round trip, not two. A version
// whose object entry never arrives (a crash in between) is swept by
// store::maintenance once idle for upload_timeout_secs.
result<std::string> begin_upload(store& s, std::string_view bucket_id, std::string_view key,
                                 bool multipart, object_meta initial, std::string version_id = {});
result<void> add_block(store& s, std::string_view version_id, std::string_view bucket_id,
                       std::string_view key, block_location loc, version_block block);
// conflict when the upload was aborted meanwhile (by upload_timeout_secs).
// Succeeds without effect when a newer version completed meanwhile.
result<void> complete_upload(store& s, std::string_view bucket_id, std::string_view key,
                             std::string_view version_id, object_meta meta,
                             const write_precondition& pre = {});
result<void> abort_upload(store& s, std::string_view bucket_id, std::string_view key,
                          std::string_view version_id);

// Writes a delete marker if the object exists; deleting a missing object is
// not an error (S3 answers 204 either way). Returns whether something was deleted.
result<bool> delete_object(store& s, std::string_view bucket_id, std::string_view key);

// Replaces the tags of the current object (PutObjectTagging, DeleteObjectTagging
// with none). not_found when there is no object.
result<void> set_object_tags(store& s, std::string_view bucket_id, std::string_view key,
                             header_list tags);

// Objects of a bucket that have data, in key order, with key >= start (or
// > start when exclusive), at most limit of them.
result<std::vector<object>> list_objects(store& s, std::string_view bucket_id,
                                         std::string_view start, bool exclusive, size_t limit);

// True when the bucket holds no object and no upload in progress.
result<bool> bucket_is_empty(store& s, std::string_view bucket_id);

}  // namespace garage::model
