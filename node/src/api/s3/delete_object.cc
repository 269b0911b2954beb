// DeleteObject and DeleteObjects (multi-object delete).
#include "api/s3/body_reader.h"
#include "api/s3/request_context.h"
#include "api/s3/s3_xml.h"
#include "model/object_ops.h"

namespace garage::s3 {

namespace {
// AWS: at most 1000 keys per request; the XML of 1000 long keys fits in 2 MiB.
constexpr size_t kMaxDeleteBody = 2 << 20;
constexpr size_t kMaxDeleteKeys = 1000;
}  // namespace

s3_task<void> handle_delete_object(request_context& ctx) {
  auto deleted = co_await blocking(
      ctx, [&] { return model::delete_object(ctx.store, ctx.bucket_id, ctx.req.key); });
  if (!deleted) co_return from_error(deleted.error(), ctx.resource());
  co_return co_await respond_empty(ctx, 204);
}

s3_task<void> handle_delete_objects(request_context& ctx) {
  auto reader = body_reader::make(ctx);
  if (!reader) co_return std::move(reader).error();
  auto body = co_await (*reader)->read_all(kMaxDeleteBody);
  if (!body) co_return std::move(body).error();
  auto parsed = parse_delete_request(*body);
  if (!parsed) co_return std::move(parsed).error();
  if (parsed->objects.size() > kMaxDeleteKeys) {
    co_return make_error(s3_errc::malformed_xml, "More than 1000 keys in one request",
                         ctx.resource());
  }
  std::vector<deleted_item> done;
  std::vector<delete_error_item> failed;
  co_await blocking(ctx, [&] {
    for (const auto& o : parsed->objects) {
      if (auto valid = validate_object_key(o.key); !valid) {
        failed.push_back({o.key, o.version_id, valid.error()});
        continue;
      }
      auto r = model::delete_object(ctx.store, ctx.bucket_id, o.key);
      if (!r) {
        failed.push_back({o.key, o.version_id, from_error(r.error())});
      } else {
        done.push_back({o.key, o.version_id, std::nullopt});
      }
    }
  });
  co_return co_await respond_xml(ctx, delete_result_xml(done, failed, parsed->quiet));
}

}  // namespace garage::s3
