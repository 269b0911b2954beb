// CORS on the S3 endpoint: preflight requests (OPTIONS, never signed) and the
// Access-Control-* headers of responses to requests with an Origin, both
// decided by the bucket's rules through model/cors.h (the matcher the web
// endpoint uses too).
#include "model/cors.h"

#include "api/s3/request_context.h"
#include "model/bucket_ops.h"

namespace garage::s3 {

namespace {

using header_list = std::vector<std::pair<std::string, std::string>>;

// The bucket's CORS rules; nullopt when it has none (or they do not parse).
std::optional<model::cors_config> bucket_cors(model::store& s, std::string_view bucket_id) {
  auto b = model::get_bucket(s, bucket_id);
  if (!b || b->cors.value.empty()) return std::nullopt;
  auto conf = model::cors_from_json(b->cors.value);
  if (!conf) return std::nullopt;
  return std::move(*conf);
}

}  // namespace

header_list cors_headers_for(request_context& ctx) {
  auto origin = ctx.ex.head().headers.get("origin");
  if (!origin || ctx.req.bucket.empty()) return {};
  std::string id = ctx.bucket_id;
  if (id.empty()) {
    // Authentication failed before the bucket was resolved: the browser
    // still needs the headers to read the error.
    auto r = model::resolve_alias(ctx.store, ctx.req.bucket);
    if (!r) return {};
    id = std::move(*r);
  }
  auto conf = bucket_cors(ctx.store, id);
  if (!conf) return {};
  const auto* rule = model::find_cors_rule(*conf, *origin, ctx.ex.head().method);
  if (!rule) return {};
  return model::cors_response_headers(*rule, *origin, false);
}

s3_task<void> handle_options_preflight(request_context& ctx) {
  const auto& headers = ctx.ex.head().headers;
  auto origin = headers.get("origin");
  auto method = headers.get("access-control-request-method");
  if (!origin) {
    co_return make_error(s3_errc::invalid_request,
                         "Insufficient information. Origin request header needed.", ctx.resource());
  }
  if (!method) {
    co_return make_error(s3_errc::invalid_request, "Invalid Access-Control-Request-Method: null",
                         ctx.resource());
  }
  auto requested =
      model::split_header_list(headers.get("access-control-request-headers").value_or(""));
  auto found = co_await blocking(ctx, [&]() -> s3_result<header_list> {
    auto forbidden = make_error(s3_errc::access_forbidden, {}, ctx.resource());
    if (ctx.req.bucket.empty()) return forbidden;
    auto id = model::resolve_alias(ctx.store, ctx.req.bucket);
    if (!id) {
      if (id.error().code == errc::not_found)
        return make_error(s3_errc::no_such_bucket, {}, "/" + ctx.req.bucket);
      return from_error(id.error(), ctx.resource());
    }
    auto conf = bucket_cors(ctx.store, *id);
    if (!conf) return forbidden;
    const auto* rule = model::find_cors_rule(*conf, *origin, *method, requested);
    if (!rule) return forbidden;
    return model::cors_response_headers(*rule, *origin, true, requested);
  });
  if (!found) co_return std::move(found).error();
  auto h = ctx.response(200);
  for (const auto& [name, value] : *found) h.headers.set(name, value);
  auto r = co_await ctx.ex.respond(std::move(h), {});
  if (!r) co_return make_error(s3_errc::internal_error, r.error().message);
  co_return s3_result<void>();
}

}  // namespace garage::s3
