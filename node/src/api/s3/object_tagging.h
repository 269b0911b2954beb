// Object tags (PutObjectTagging, GetObjectTagging, DeleteObjectTagging, the
// x-amz-tagging header of PUT, CreateMultipartUpload and CopyObject) and the
// conditional-write headers of PUT and CompleteMultipartUpload. Pure
// functions; the handlers are declared in request_context.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/common/http.h"
#include "api/s3/s3_error.h"
#include "model/object.h"
#include "model/object_ops.h"

namespace garage::s3 {

// AWS's limits on object tags.
inline constexpr size_t kMaxObjectTags = 10;
inline constexpr size_t kMaxTagKeyChars = 128;
inline constexpr size_t kMaxTagValueChars = 256;

// InvalidTag when a tag set breaks AWS's rules: more than 10 tags, a key
// empty or over 128 characters, a value over 256, a repeated key, a key in
// the reserved "aws:" prefix.
s3_result<void> validate_tags(const model::header_list& tags);

// The x-amz-tagging header: URL-encoded "k1=v1&k2=v2" ('+' is a space).
// nullopt-like empty list when absent; InvalidArgument when it does not
// decode; InvalidTag as validate_tags.
s3_result<model::header_list> parse_tagging_header(const http::header_map& headers);

// <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>.
// MalformedXML when it does not parse; InvalidTag as validate_tags.
s3_result<model::header_list> parse_tagging_xml(std::string_view body);
std::string tagging_xml(const model::header_list& tags);

// If-None-Match / If-Match of a write. If-None-Match other than "*" is 501
// NotImplemented, as AWS answers.
s3_result<model::write_precondition> parse_write_precondition(const http::header_map& headers);
// The S3 error of a failed model::check_precondition (412 PreconditionFailed,
// 404 NoSuchKey), or nullopt when `e` is not one.
std::optional<s3_error> precondition_error(const garage::error& e, const std::string& resource);

// Adds x-amz-tagging-count to a GET/HEAD response when the object has tags.
void set_tagging_count_header(http::header_map& h, const model::object_meta& meta);

}  // namespace garage::s3
