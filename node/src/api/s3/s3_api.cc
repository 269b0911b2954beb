#include "api/s3/s3_api.h"

#include "api/s3/request_context.h"
#include "model/bucket_ops.h"
#include "model/key_ops.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/random.h"

namespace garage::s3 {

struct s3_api::rep {
  rep(http::runtime& r, model::store& s, const config& c) : rt(r), store(s), cfg(c) {}
  http::runtime& rt;
  model::store& store;
  const config& cfg;
  signing_key_cache keys_cache{1024};

  http::task<void> handle(http::exchange& ex);
};

http::response_head request_context::response(unsigned status) const {
  http::response_head h;
  h.status = status;
  h.headers.set("x-amz-request-id", request_id);
  for (const auto& [name, value] : cors_headers) h.headers.set(name, value);
  return h;
}

s3_task<void> respond_xml(request_context& ctx, std::string xml, unsigned status) {
  auto h = ctx.response(status);
  h.headers.set("content-type", "application/xml");
  auto r = co_await ctx.ex.respond(std::move(h), std::move(xml));
  if (!r) co_return make_error(s3_errc::internal_error, r.error().message);
  co_return s3_result<void>();
}

s3_task<void> respond_empty(request_context& ctx, unsigned status) {
  auto r = co_await ctx.ex.respond(ctx.response(status), {});
  if (!r) co_return make_error(s3_errc::internal_error, r.error().message);
  co_return s3_result<void>();
}

namespace {

enum class access { none, read, write, owner };

access required_access(endpoint_kind k) {
  switch (k) {
    case endpoint_kind::list_buckets:
    case endpoint_kind::create_bucket:
      return access::none;
    case endpoint_kind::put_object:
    case endpoint_kind::delete_object:
    case endpoint_kind::delete_objects:
    case endpoint_kind::create_multipart_upload:
    case endpoint_kind::upload_part:
    case endpoint_kind::complete_multipart_upload:
    case endpoint_kind::abort_multipart_upload:
    case endpoint_kind::put_object_tagging:
    case endpoint_kind::delete_object_tagging:
    case endpoint_kind::copy_object:       // and read on the source: load_copy_source
    case endpoint_kind::upload_part_copy:  // likewise
      return access::write;
    case endpoint_kind::delete_bucket:
    // Bucket configuration is the owner's, as in Garage.
    case endpoint_kind::get_bucket_cors:
    case endpoint_kind::put_bucket_cors:
    case endpoint_kind::delete_bucket_cors:
    case endpoint_kind::get_bucket_website:
    case endpoint_kind::put_bucket_website:
    case endpoint_kind::delete_bucket_website:
    case endpoint_kind::get_bucket_lifecycle_configuration:
    case endpoint_kind::put_bucket_lifecycle_configuration:
    case endpoint_kind::delete_bucket_lifecycle:
      return access::owner;
    default:
      return access::read;
  }
}

bool allowed(const model::bucket_permission& p, access a) {
  switch (a) {
    case access::none:
      return true;
    case access::read:
      return p.read;
    case access::write:
      return p.write;
    case access::owner:
      return p.owner;
  }
  return false;
}

s3_task<void> dispatch(request_context& ctx) {
  switch (ctx.req.kind) {
    case endpoint_kind::list_buckets:
      return handle_list_buckets(ctx);
    case endpoint_kind::create_bucket:
      return handle_create_bucket(ctx);
    case endpoint_kind::head_bucket:
      return handle_head_bucket(ctx);
    case endpoint_kind::delete_bucket:
      return handle_delete_bucket(ctx);
    case endpoint_kind::get_bucket_location:
      return handle_get_bucket_location(ctx);
    case endpoint_kind::get_bucket_versioning:
      return handle_get_bucket_versioning(ctx);
    case endpoint_kind::list_objects:
      return handle_list_objects(ctx, false);
    case endpoint_kind::list_objects_v2:
      return handle_list_objects(ctx, true);
    case endpoint_kind::put_object:
      return handle_put_object(ctx);
    case endpoint_kind::post_object:
      return handle_post_object(ctx);
    case endpoint_kind::get_object:
      return handle_get_object(ctx, false);
    case endpoint_kind::head_object:
      return handle_get_object(ctx, true);
    case endpoint_kind::delete_object:
      return handle_delete_object(ctx);
    case endpoint_kind::delete_objects:
      return handle_delete_objects(ctx);
    case endpoint_kind::create_multipart_upload:
      return handle_create_multipart_upload(ctx);
    case endpoint_kind::upload_part:
      return handle_upload_part(ctx);
    case endpoint_kind::complete_multipart_upload:
      return handle_complete_multipart_upload(ctx);
    case endpoint_kind::abort_multipart_upload:
      return handle_abort_multipart_upload(ctx);
    case endpoint_kind::list_parts:
      return handle_list_parts(ctx);
    case endpoint_kind::list_multipart_uploads:
      return handle_list_multipart_uploads(ctx);
    case endpoint_kind::get_object_tagging:
      return handle_get_object_tagging(ctx);
    case endpoint_kind::put_object_tagging:
      return handle_put_object_tagging(ctx);
    case endpoint_kind::delete_object_tagging:
      return handle_delete_object_tagging(ctx);
    case endpoint_kind::get_object_attributes:
      return handle_get_object_attributes(ctx);
    case endpoint_kind::copy_object:
      return handle_copy_object(ctx);
    case endpoint_kind::upload_part_copy:
      return handle_upload_part_copy(ctx);
    case endpoint_kind::get_bucket_cors:
      return handle_get_bucket_cors(ctx);
    case endpoint_kind::put_bucket_cors:
      return handle_put_bucket_cors(ctx);
    case endpoint_kind::delete_bucket_cors:
      return handle_delete_bucket_cors(ctx);
    case endpoint_kind::get_bucket_website:
      return handle_get_bucket_website(ctx);
    case endpoint_kind::put_bucket_website:
      return handle_put_bucket_website(ctx);
    case endpoint_kind::delete_bucket_website:
      return handle_delete_bucket_website(ctx);
    case endpoint_kind::get_bucket_lifecycle_configuration:
      return handle_get_bucket_lifecycle(ctx);
    case endpoint_kind::put_bucket_lifecycle_configuration:
      return handle_put_bucket_lifecycle(ctx);
    case endpoint_kind::delete_bucket_lifecycle:
      return handle_delete_bucket_lifecycle(ctx);
    default:
      return [](request_context& c) -> s3_task<void> {
        co_return make_error(s3_errc::not_implemented,
                             std::string(endpoint_name(c.req.kind)) + " is not implemented",
                             c.resource());
      }(ctx);
  }
}

// Authenticates the request and loads its key and bucket. Runs on the
// blocking pool (it reads the key and alias tables).
s3_result<void> authorize(request_context& ctx, signing_key_cache& cache) {
  // PostObject is signed by its form's policy: the handler authenticates.
  if (ctx.req.kind == endpoint_kind::post_object) return {};
  std::optional<model::access_key> key;
  auto lookup = [&](std::string_view id) -> std::optional<std::string> {
    auto k = model::get_key(ctx.store, id);
    if (!k) return std::nullopt;
    key = std::move(*k);
    return key->secret;
  };
  auto auth = verify_request(ctx.ex.head(), ctx.cfg.s3_api.s3_region, lookup, now_msec(), &cache);
  if (!auth) return std::move(auth).error();
  ctx.auth = std::move(*auth);
  if (ctx.auth.anonymous || !key) {
    return make_error(s3_errc::access_denied, "Anonymous access is not allowed", ctx.resource());
  }
  ctx.key = std::move(key);
  // Buckets are not versioned: the only version id there is is "null".
  if (ctx.req.version_id && *ctx.req.version_id != "null") {
    return make_error(s3_errc::invalid_argument, "Invalid version id specified", ctx.resource());
  }
  if (ctx.req.bucket.empty() || ctx.req.kind == endpoint_kind::create_bucket) return {};
  auto id = model::resolve_bucket_name(ctx.store, &*ctx.key, ctx.req.bucket);
  if (!id) {
    if (id.error().code == errc::not_found) {
      return make_error(s3_errc::no_such_bucket, {}, "/" + ctx.req.bucket);
    }
    return from_error(id.error(), ctx.resource());
  }
  ctx.bucket_id = std::move(*id);
  if (!allowed(ctx.key->permission_on(ctx.bucket_id), required_access(ctx.req.kind))) {
    return make_error(s3_errc::access_denied, {}, ctx.resource());
  }
  return {};
}

}  // namespace

http::task<void> s3_api::rep::handle(http::exchange& ex) {
  std::string request_id = random_hex(8);
  auto routed = route_request(ex.head(), cfg.s3_api.root_domain);
  std::optional<s3_error> failure;
  std::optional<request_context> ctx;
  if (!routed) {
    failure = std::move(routed).error();
  } else {
    ex.set_endpoint(endpoint_name(routed->kind));
    ctx.emplace(
        request_context{ex, rt, store, cfg, std::move(*routed), {}, {}, {}, request_id, {}});
    if (ctx->req.kind == endpoint_kind::options_preflight) {
      // Preflights are never signed: answered without authentication.
      auto r = co_await handle_options_preflight(*ctx);
      if (!r) failure = std::move(r).error();
    } else {
      auto authorized = co_await http::run_blocking(rt, [&] {
        auto a = authorize(*ctx, keys_cache);
        ctx->cors_headers = cors_headers_for(*ctx);
        return a;
      });
      if (!authorized) {
        failure = std::move(authorized).error();
      } else {
        try {
          auto r = co_await dispatch(*ctx);
          if (!r) failure = std::move(r).error();
        } catch (const std::exception& e) {
          LOG_ERROR("s3: {} {}: unexpected exception: {}", ex.head().method, ex.head().target,
                    e.what());
          failure = make_error(s3_errc::internal_error, {}, ctx->resource());
        }
      }
    }
  }
  if (!failure) co_return;
  if (ex.responded()) {
    // Too late for an error document: the connection is closed by the server.
    LOG_WARN("s3: {} {} failed after the response began: {}", ex.head().method, ex.head().target,
             failure->message);
    co_return;
  }
  if (failure->status() >= 500) {
    LOG_WARN("s3: {} {}: {} {}", ex.head().method, ex.head().target, code_name(failure->code),
             failure->message);
  }
  http::response_head h;
  h.status = failure->status();
  h.headers.set("x-amz-request-id", request_id);
  if (ctx) {
    for (const auto& [name, value] : ctx->cors_headers) h.headers.set(name, value);
  }
  std::string body;
  if (ex.head().method != "HEAD") {
    h.headers.set("content-type", "application/xml");
    body = error_xml(*failure, request_id);
  }
  auto sent = co_await ex.respond(std::move(h), std::move(body));
  (void)sent;
}

s3_api::s3_api(http::runtime& rt, model::store& store, const config& cfg)
    : rep_(std::make_shared<rep>(rt, store, cfg)) {}

s3_api::~s3_api() = default;

http::handler s3_api::handler() {
  auto r = rep_;
  return [r](http::exchange& ex) -> http::task<void> { return r->handle(ex); };
}

}  // namespace garage::s3
