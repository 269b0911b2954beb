// The source of a CopyObject or UploadPartCopy, as a handler needs it:
// x-amz-copy-source resolved to a bucket the key may read, the object's
// current version (and block list), its x-amz-copy-source-if-* conditions
// checked, and the SSE-C key that opens it. Internal to api/s3.
#pragma once

#include <optional>
#include <string>

#include "api/s3/request_context.h"
#include "api/s3/sse_c.h"
#include "model/object.h"
#include "model/version.h"

namespace garage::s3 {

struct copy_source_object {
  std::string bucket_id;
  std::string key;
  model::object_version version;        // current, with data
  std::optional<model::version> data;   // its blocks, for a block-backed version
  std::optional<std::string> open_key;  // SSE-C key of the source (nullopt: plain)
};

// Errors: InvalidArgument (malformed header, a versionId other than null),
// NoSuchBucket, AccessDenied (no read permission on the source bucket),
// NoSuchKey, PreconditionFailed, and the SSE-C errors of check_sse_c_key.
s3_task<copy_source_object> load_copy_source(request_context& ctx);

// Reads one stored block of the source and returns its plain bytes [from, to).
// Blocking.
result<std::string> read_source_piece(model::store& s, const hash256& id,
                                      const std::optional<std::string>& open_key, uint64_t from,
                                      uint64_t to);

// The ETag a copy gets when its data must be re-derived: random for an SSE-C
// destination (AWS's ETag of an SSE-C object is not the MD5 of its data),
// else the hex MD5 of the plain data.
std::string copy_etag(const std::optional<std::string>& dest_key, std::string_view md5_raw);

// <CopyObjectResult> or <CopyPartResult> with LastModified and ETag (quoted).
std::string copy_result_xml(std::string_view root, uint64_t last_modified_msec,
                            std::string_view etag);

}  // namespace garage::s3
