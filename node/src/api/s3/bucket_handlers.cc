// ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
// GetBucketVersioning.
#include "api/s3/body_reader.h"
#include "api/s3/request_context.h"
#include "api/s3/s3_xml.h"
#include "model/bucket_ops.h"

namespace garage::s3 {

s3_task<void> handle_list_buckets(request_context& ctx) {
  auto listed = co_await blocking(ctx, [&]() -> result<std::vector<bucket_entry>> {
    std::vector<bucket_entry> out;
    for (const auto& [bucket_id, perm] : ctx.key->buckets.items()) {
      if (!perm.value.any()) continue;
      auto b = model::get_bucket(ctx.store, bucket_id);
      if (!b) {
        if (b.error().code == errc::not_found) continue;
        return std::move(b).error();
      }
      for (auto& name : model::active_aliases(*b)) {
        // A local alias of the same name hides the global one for this key.
        if (!model::local_alias_target(*ctx.key, name)) out.push_back({name, b->created_msec});
      }
    }
    for (const auto& [name, target] : ctx.key->local_aliases.items()) {
      if (target.value.empty()) continue;
      auto b = model::get_bucket(ctx.store, target.value);
      if (!b) {
        if (b.error().code == errc::not_found) continue;
        return std::move(b).error();
      }
      out.push_back({name, b->created_msec});
    }
    std::sort(out.begin(), out.end(),
              [](const bucket_entry& a, const bucket_entry& b) { return a.name < b.name; });
    return out;
  });
  if (!listed) co_return from_error(listed.error());
  owner o{ctx.key->id, ctx.key->name.value};
  co_return co_await respond_xml(ctx, list_buckets_xml(o, *listed));
}

s3_task<void> handle_create_bucket(request_context& ctx) {
  auto reader = body_reader::make(ctx);
  if (!reader) co_return std::move(reader).error();
  auto body = co_await (*reader)->read_all(64 * 1024);
  if (!body) co_return std::move(body).error();
  auto conf = parse_create_bucket_configuration(*body);
  if (!conf) co_return std::move(conf).error();
  if (conf->location_constraint && !conf->location_constraint->empty() &&
      *conf->location_constraint != ctx.cfg.s3_api.s3_region) {
    co_return make_error(s3_errc::invalid_request,
                         "The location constraint does not match this server's region (" +
                             ctx.cfg.s3_api.s3_region + ")",
                         ctx.resource());
  }
  if (!model::is_valid_bucket_name(ctx.req.bucket)) {
    co_return make_error(s3_errc::invalid_bucket_name, {}, ctx.resource());
  }
  auto created = co_await blocking(ctx, [&]() -> s3_result<void> {
    auto existing = model::resolve_bucket_name(ctx.store, &*ctx.key, ctx.req.bucket);
    if (existing) {
      if (ctx.key->permission_on(*existing).owner) {
        return make_error(s3_errc::bucket_already_owned_by_you, {}, ctx.resource());
      }
      return make_error(s3_errc::bucket_already_exists, {}, ctx.resource());
    }
    if (!ctx.key->allow_create_bucket.value) {
      return make_error(s3_errc::access_denied, "This access key may not create buckets",
                        ctx.resource());
    }
    auto b = model::create_bucket(ctx.store, ctx.req.bucket, ctx.key->id);
    if (!b) {
      if (b.error().code == errc::already_exists) {
        return make_error(s3_errc::bucket_already_exists, {}, ctx.resource());
      }
      return from_error(b.error(), ctx.resource());
    }
    return {};
  });
  if (!created) co_return std::move(created).error();
  auto h = ctx.response(200);
  h.headers.set("location", "/" + ctx.req.bucket);
  auto r = co_await ctx.ex.respond(std::move(h), {});
  if (!r) co_return make_error(s3_errc::internal_error, r.error().message);
  co_return s3_result<void>();
}

s3_task<void> handle_head_bucket(request_context& ctx) {
  auto h = ctx.response(200);
  h.headers.set("x-amz-bucket-region", ctx.cfg.s3_api.s3_region);
  auto r = co_await ctx.ex.respond(std::move(h), {});
  if (!r) co_return make_error(s3_errc::internal_error, r.error().message);
  co_return s3_result<void>();
}

s3_task<void> handle_delete_bucket(request_context& ctx) {
  auto deleted =
      co_await blocking(ctx, [&] { return model::delete_bucket(ctx.store, ctx.bucket_id); });
  if (!deleted) {
    if (deleted.error().code == errc::conflict) {
      co_return make_error(s3_errc::bucket_not_empty, {}, ctx.resource());
    }
    if (deleted.error().code == errc::not_found) {
      co_return make_error(s3_errc::no_such_bucket, {}, ctx.resource());
    }
    co_return from_error(deleted.error(), ctx.resource());
  }
  co_return co_await respond_empty(ctx, 204);
}

// Buckets are never versioned: an empty configuration, as AWS answers for a
// bucket on which versioning was never enabled.
s3_task<void> handle_get_bucket_versioning(request_context& ctx) {
  co_return co_await respond_xml(
      ctx,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VersioningConfiguration "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>");
}

s3_task<void> handle_get_bucket_location(request_context& ctx) {
  co_return co_await respond_xml(ctx, location_constraint_xml(ctx.cfg.s3_api.s3_region));
}

}  // namespace garage::s3
