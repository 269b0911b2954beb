// Multipart uploads over the object and version tables. An upload is an
// "uploading" multipart version of the object (its id is the upload id); each
// UploadPart stores its blocks in that version under (part number, attempt)
// and records the attempt's ETag and size. Completing builds a new version
// holding only the chosen attempts and makes it the object's version in one
// transaction; the upload's version is then dropped, which releases the
// blocks of every attempt that was not chosen.
//
// Blocking calls: run them off the I/O threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/object.h"
#include "model/object_ops.h"
#include "model/version.h"
#include "util/result.h"

namespace garage::model {

class store;

struct upload_info {
  object_version upload;  // the uploading version (headers in upload.meta)
  version blocks;         // its parts and blocks
};

// not_found when there is no such upload in progress for this object.
result<upload_info> get_upload(store& s, std::string_view bucket_id, std::string_view key,
                               std::string_view upload_id);

// Records one uploaded attempt of a part, after its blocks were added with
// add_block at (part_number, attempt, offset).
result<void> add_part(store& s, std::string_view upload_id, std::string_view bucket_id,
                      std::string_view key, part_key part, part_info info);

// The latest attempt of each part number.
std::vector<std::pair<part_key, part_info>> latest_parts(const version& v);

// Objects of a bucket with at least one multipart upload in progress, with
// key >= start, in key order, at most limit of them.
result<std::vector<object>> objects_with_uploads(store& s, std::string_view bucket_id,
                                                 std::string_view start, size_t limit);

// Makes the object the concatenation of the given attempts, in order; the new
// version keeps the chosen parts' info (ETag, size, checksum) under attempt 0.
// not_found when the upload is gone (aborted), invalid_argument when an
// attempt is unknown, and the errors of check_precondition (object_ops.h)
// for `pre`. Returns the new version's id.
result<std::string> complete_multipart(store& s, std::string_view bucket_id, std::string_view key,
                                       std::string_view upload_id,
                                       const std::vector<part_key>& chosen, object_meta meta,
                                       const write_precondition& pre = {});

}  // namespace garage::model
