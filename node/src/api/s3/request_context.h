// What a handler of one S3 request gets: the exchange, the routed request, the
// authenticated key and the resolved bucket. Internal to api/s3.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/common/exchange.h"
#include "api/common/runtime.h"
#include "api/s3/router.h"
#include "api/s3/s3_error.h"
#include "api/s3/sigv4.h"
#include "model/key.h"
#include "model/store.h"

namespace garage::s3 {

struct request_context {
  http::exchange& ex;
  http::runtime& rt;
  model::store& store;
  const config& cfg;
  parsed_request req;
  auth_result auth;
  std::optional<model::access_key> key;  // nullopt: anonymous
  std::string bucket_id;                 // resolved for bucket-level endpoints
  std::string request_id;
  // Access-Control-* headers for a request with an Origin that a CORS rule
  // of the bucket allows; added to every response, errors included.
  std::vector<std::pair<std::string, std::string>> cors_headers{};
  // SSE-C: the 32-byte customer key that store_blocks seals new blocks with
  // (api/s3/sse_c.h); nullopt stores them in plain.
  std::optional<std::string> sse_c_key{};

  std::string resource() const { return "/" + req.bucket + (req.key.empty() ? "" : "/" + req.key); }
  // Standard headers of every response (request id, server).
  http::response_head response(unsigned status = 200) const;
};

template <class T>
using s3_task = http::task<s3_result<T>>;

// Runs a blocking model call on the runtime's pool.
template <class F>
auto blocking(request_context& ctx, F f) {
  return http::run_blocking(ctx.rt, std::move(f));
}

// Size limit of a single PUT or UploadPart, as AWS.
inline constexpr uint64_t kMaxObjectPartSize = 5ull << 30;

class body_reader;
// Streams the rest of a body (after `first`, already read) into blocks of
// version `version_id` at (part_number, attempt, offset), hashing and storing
// each block on the blocking pool while the next arrives.
s3_task<void> store_blocks(request_context& ctx, body_reader& body, const std::string& version_id,
                           std::string first, uint32_t part_number, uint64_t attempt);
// The same from any source: fill(out, want) appends until out holds `want`
// bytes (never more) or the source ends (PostObject's file part).
using fill_function = std::function<s3_task<size_t>(std::string& out, size_t want)>;
s3_task<void> store_blocks(request_context& ctx, const fill_function& fill,
                           const std::string& version_id, std::string first, uint32_t part_number,
                           uint64_t attempt);

// A complete response with an XML body, or with no body.
s3_task<void> respond_xml(request_context& ctx, std::string xml, unsigned status = 200);
s3_task<void> respond_empty(request_context& ctx, unsigned status);

// Handlers: each answers the request on success; on failure it returns the
// error (the dispatcher renders it) unless a response has already begun.
s3_task<void> handle_list_buckets(request_context& ctx);
s3_task<void> handle_create_bucket(request_context& ctx);
s3_task<void> handle_head_bucket(request_context& ctx);
s3_task<void> handle_delete_bucket(request_context& ctx);
s3_task<void> handle_get_bucket_location(request_context& ctx);
s3_task<void> handle_get_bucket_versioning(request_context& ctx);
s3_task<void> handle_list_objects(request_context& ctx, bool v2);
s3_task<void> handle_put_object(request_context& ctx);
s3_task<void> handle_post_object(request_context& ctx);  // authenticates by its form
s3_task<void> handle_get_object(request_context& ctx, bool head);
s3_task<void> handle_delete_object(request_context& ctx);
s3_task<void> handle_delete_objects(request_context& ctx);
s3_task<void> handle_create_multipart_upload(request_context& ctx);
s3_task<void> handle_upload_part(request_context& ctx);
s3_task<void> handle_complete_multipart_upload(request_context& ctx);
s3_task<void> handle_abort_multipart_upload(request_context& ctx);
s3_task<void> handle_list_parts(request_context& ctx);
s3_task<void> handle_list_multipart_uploads(request_context& ctx);
// Object tagging and GetObjectAttributes (object_tagging_handlers.cc).
s3_task<void> handle_get_object_tagging(request_context& ctx);
s3_task<void> handle_put_object_tagging(request_context& ctx);
s3_task<void> handle_delete_object_tagging(request_context& ctx);
s3_task<void> handle_get_object_attributes(request_context& ctx);
// CopyObject (copy_object.cc) and UploadPartCopy (upload_part_copy.cc).
s3_task<void> handle_copy_object(request_context& ctx);
s3_task<void> handle_upload_part_copy(request_context& ctx);
// An UploadPart attempt id: orders by time, does not collide between two
// uploads of the same part in the same millisecond.
uint64_t new_part_attempt();
// Bucket configuration (bucket_config.cc) and CORS (cors.cc).
s3_task<void> handle_get_bucket_cors(request_context& ctx);
s3_task<void> handle_put_bucket_cors(request_context& ctx);
s3_task<void> handle_delete_bucket_cors(request_context& ctx);
s3_task<void> handle_get_bucket_website(request_context& ctx);
s3_task<void> handle_put_bucket_website(request_context& ctx);
s3_task<void> handle_delete_bucket_website(request_context& ctx);
s3_task<void> handle_get_bucket_lifecycle(request_context& ctx);
s3_task<void> handle_put_bucket_lifecycle(request_context& ctx);
s3_task<void> handle_delete_bucket_lifecycle(request_context& ctx);
// Bucket quotas (model/bucket_config.h): 403 AccessDenied, with Garage's
// message, when making ctx's key an object of `size` bytes would exceed them.
s3_task<void> check_quotas(request_context& ctx, uint64_t size);
// The same for UploadPart: refused once the bucket holds max_size bytes.
s3_task<void> check_size_quota_not_reached(request_context& ctx);
// An unauthenticated CORS preflight (OPTIONS): 200 with Access-Control-*
// headers when a rule of the bucket allows it, else 403 AccessForbidden.
s3_task<void> handle_options_preflight(request_context& ctx);
// The CORS headers for ctx's request (none without an Origin header or a
// matching rule). Blocking: reads the bucket.
std::vector<std::pair<std::string, std::string>> cors_headers_for(request_context& ctx);

}  // namespace garage::s3
