// Bucket configuration: Get/Put/DeleteBucketCors, Get/Put/DeleteBucketWebsite
// and Get/Put/DeleteBucketLifecycleConfiguration. Each document is validated
// here (bucket_config_xml.h) and stored in the bucket entry as the model's
// canonical JSON (model/bucket_config.h); a Get writes it back as XML.
#include "model/bucket_config.h"

#include "api/s3/body_reader.h"
#include "api/s3/bucket_config_xml.h"
#include "api/s3/request_context.h"

namespace garage::s3 {

namespace {

constexpr size_t kMaxConfigBody = 1 << 20;

s3_error with_resource(s3_error e, const request_context& ctx) {
  e.resource = ctx.resource();
  return e;
}

s3_error bucket_error(const garage::error& e, const request_context& ctx) {
  if (e.code == errc::not_found) return make_error(s3_errc::no_such_bucket, {}, ctx.resource());
  return from_error(e, ctx.resource());
}

s3_task<std::string> read_config_body(request_context& ctx) {
  auto reader = body_reader::make(ctx);
  if (!reader) co_return std::move(reader).error();
  co_return co_await (*reader)->read_all(kMaxConfigBody);
}

// Stores the document (empty: removes it) and answers `status`.
s3_task<void> store_document(request_context& ctx, model::bucket_document which, std::string json,
                             unsigned status) {
  auto stored = co_await blocking(ctx, [&] {
    return model::set_bucket_document(ctx.store, ctx.bucket_id, which, std::move(json));
  });
  if (!stored) co_return bucket_error(stored.error(), ctx);
  co_return co_await respond_empty(ctx, status);
}

// The stored document, or `missing` when there is none.
s3_task<std::string> load_document(request_context& ctx, model::bucket_document which,
                                   s3_errc missing) {
  auto doc = co_await blocking(
      ctx, [&] { return model::get_bucket_document(ctx.store, ctx.bucket_id, which); });
  if (!doc) co_return bucket_error(doc.error(), ctx);
  if (doc->empty()) co_return make_error(missing, {}, ctx.resource());
  co_return std::move(*doc);
}

}  // namespace

s3_task<void> check_quotas(request_context& ctx, uint64_t size) {
  auto r = co_await blocking(
      ctx, [&] { return model::check_quotas(ctx.store, ctx.bucket_id, ctx.req.key, size); });
  if (!r) co_return from_error(r.error(), ctx.resource());
  co_return s3_result<void>();
}

s3_task<void> check_size_quota_not_reached(request_context& ctx) {
  auto r = co_await blocking(
      ctx, [&] { return model::check_size_quota_not_reached(ctx.store, ctx.bucket_id); });
  if (!r) co_return from_error(r.error(), ctx.resource());
  co_return s3_result<void>();
}

// ---------------------------------------------------------------- CORS

s3_task<void> handle_put_bucket_cors(request_context& ctx) {
  auto body = co_await read_config_body(ctx);
  if (!body) co_return std::move(body).error();
  auto conf = parse_cors_configuration(*body);
  if (!conf) co_return with_resource(std::move(conf).error(), ctx);
  co_return co_await store_document(ctx, model::bucket_document::cors, model::cors_to_json(*conf),
                                    200);
}

s3_task<void> handle_get_bucket_cors(request_context& ctx) {
  auto doc = co_await load_document(ctx, model::bucket_document::cors,
                                    s3_errc::no_such_cors_configuration);
  if (!doc) co_return std::move(doc).error();
  auto conf = model::cors_from_json(*doc);
  if (!conf) co_return from_error(conf.error(), ctx.resource());
  co_return co_await respond_xml(ctx, cors_configuration_xml(*conf));
}

s3_task<void> handle_delete_bucket_cors(request_context& ctx) {
  co_return co_await store_document(ctx, model::bucket_document::cors, {}, 204);
}

// ---------------------------------------------------------------- website

s3_task<void> handle_put_bucket_website(request_context& ctx) {
  auto body = co_await read_config_body(ctx);
  if (!body) co_return std::move(body).error();
  auto conf = parse_website_configuration(*body);
  if (!conf) co_return with_resource(std::move(conf).error(), ctx);
  co_return co_await store_document(ctx, model::bucket_document::website,
                                    model::website_to_json(*conf), 200);
}

s3_task<void> handle_get_bucket_website(request_context& ctx) {
  auto doc = co_await load_document(ctx, model::bucket_document::website,
                                    s3_errc::no_such_website_configuration);
  if (!doc) co_return std::move(doc).error();
  auto conf = model::website_from_json(*doc);
  if (!conf) co_return from_error(conf.error(), ctx.resource());
  co_return co_await respond_xml(ctx, website_configuration_xml(*conf));
}

s3_task<void> handle_delete_bucket_website(request_context& ctx) {
  co_return co_await store_document(ctx, model::bucket_document::website, {}, 204);
}

// ---------------------------------------------------------------- lifecycle

s3_task<void> handle_put_bucket_lifecycle(request_context& ctx) {
  auto body = co_await read_config_body(ctx);
  if (!body) co_return std::move(body).error();
  auto conf = parse_lifecycle_configuration(*body);
  if (!conf) co_return with_resource(std::move(conf).error(), ctx);
  co_return co_await store_document(ctx, model::bucket_document::lifecycle,
                                    model::lifecycle_to_json(*conf), 200);
}

s3_task<void> handle_get_bucket_lifecycle(request_context& ctx) {
  auto doc = co_await load_document(ctx, model::bucket_document::lifecycle,
                                    s3_errc::no_such_lifecycle_configuration);
  if (!doc) co_return std::move(doc).error();
  auto conf = model::lifecycle_from_json(*doc);
  if (!conf) co_return from_error(conf.error(), ctx.resource());
  co_return co_await respond_xml(ctx, lifecycle_configuration_xml(*conf));
}

s3_task<void> handle_delete_bucket_lifecycle(request_context& ctx) {
  co_return co_await store_document(ctx, model::bucket_document::lifecycle, {}, 204);
}

}  // namespace garage::s3
