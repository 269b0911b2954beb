// CopyObject: a new version of the destination made from the source's
// current version. When the stored bytes can stay as they are (same
// encryption on both sides) the copy shares them: inline bytes are copied
// into the new entry, blocks get new references (model/copy_ops.h), nothing
// is read. When the SSE-C key changes, every block is read, opened, sealed
// for the destination and written as a new block.
#include "api/s3/copy_params.h"
#include "api/s3/copy_source_loader.h"
#include "api/s3/object_headers.h"
#include "model/copy_ops.h"
#include "model/object_ops.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/log.h"

namespace garage::s3 {

namespace {

// Re-reads every block of the source, re-sealed for the destination, into a
// new block-backed version. Returns the new data's MD5 (raw).
s3_task<std::string> rewrite_blocks(request_context& ctx, const copy_source_object& src,
                                    const std::string& version_id) {
  digest_hasher md5("MD5");
  for (const auto& [loc, b] : src.data->blocks) {
    auto stored = co_await blocking(ctx, [&]() -> result<void> {
      GARAGE_ASSIGN_OR_RETURN(auto plain,
                              read_source_piece(ctx.store, b.hash, src.open_key, 0, b.size));
      md5.update(plain);
      GARAGE_ASSIGN_OR_RETURN(auto sealed, seal_for_storage(ctx.sse_c_key, std::move(plain)));
      hash256 id = blake2b_256(sealed);
      GARAGE_TRY(ctx.store.put_block(id, sealed));
      return model::add_block(ctx.store, version_id, ctx.bucket_id, ctx.req.key,
                              model::block_location{loc.part_number, 0, loc.offset},
                              model::version_block{id, b.size});
    });
    if (!stored) co_return from_error(stored.error(), ctx.resource());
  }
  co_return md5.finish();
}

}  // namespace

s3_task<void> handle_copy_object(request_context& ctx) {
  const auto& headers = ctx.ex.head().headers;
  auto directive = parse_metadata_directive(headers.get("x-amz-metadata-directive"));
  if (!directive) co_return std::move(directive).error();
  auto dest_key = parse_sse_c(headers, sse_c_role::object);
  if (!dest_key) co_return std::move(dest_key).error();
  auto src = co_await load_copy_source(ctx);
  if (!src) co_return std::move(src).error();
  const model::object_version& sv = src->version;
  const std::string dest_md5 = *dest_key ? (*dest_key)->md5 : std::string();
  if (src->bucket_id == ctx.bucket_id && src->key == ctx.req.key &&
      *directive == metadata_directive::copy && sv.meta.sse_c_key_md5 == dest_md5) {
    co_return make_error(s3_errc::invalid_request,
                         "This copy request is illegal because it is trying to copy an object to "
                         "itself without changing the object's metadata, storage class, website "
                         "redirect location or encryption attributes.",
                         ctx.resource());
  }
  if (auto q = co_await check_quotas(ctx, sv.meta.size); !q) co_return std::move(q).error();
  if (*dest_key) ctx.sse_c_key = (*dest_key)->key;

  // The source's metadata (headers, tags, checksum), or the request's headers.
  model::object_meta meta = sv.meta;
  if (*directive == metadata_directive::replace) {
    auto replaced = stored_headers(headers);
    if (!replaced) co_return std::move(replaced).error();
    meta.headers = std::move(*replaced);
  }
  meta.sse_c_key_md5 = dest_md5;
  const bool same_bytes = sv.meta.sse_c_key_md5 == dest_md5;

  if (sv.data == model::version_data::inline_bytes) {
    std::string data = sv.inline_data;
    if (!same_bytes) {
      auto plain = open_from_storage(src->open_key, std::move(data));
      if (!plain) co_return from_error(plain.error(), ctx.resource());
      meta.etag = copy_etag(ctx.sse_c_key, md5(*plain));
      auto sealed = seal_for_storage(ctx.sse_c_key, std::move(*plain));
      if (!sealed) co_return from_error(sealed.error(), ctx.resource());
      data = std::move(*sealed);
    }
    auto put = co_await blocking(ctx, [&] {
      return model::put_inline(ctx.store, ctx.bucket_id, ctx.req.key, meta, std::move(data));
    });
    if (!put) co_return from_error(put.error(), ctx.resource());
  } else if (!src->data) {
    co_return make_error(s3_errc::internal_error, "copy source has no block list");
  } else if (same_bytes) {
    auto put = co_await blocking(ctx, [&] {
      return model::put_shared_blocks(ctx.store, ctx.bucket_id, ctx.req.key, meta, *src->data,
                                      sv.id);
    });
    if (!put) {
      // The source was deleted between reading it and referencing its blocks.
      if (put.error().code == errc::not_found) {
        co_return make_error(s3_errc::no_such_key, {}, "/" + src->key);
      }
      co_return from_error(put.error(), ctx.resource());
    }
  } else {
    auto version_id = co_await blocking(
        ctx, [&] { return model::begin_upload(ctx.store, ctx.bucket_id, ctx.req.key, false); });
    if (!version_id) co_return from_error(version_id.error(), ctx.resource());
    auto digest = co_await rewrite_blocks(ctx, *src, *version_id);
    s3_result<void> done;
    if (!digest) {
      done = std::move(digest).error();
    } else {
      meta.etag = copy_etag(ctx.sse_c_key, *digest);
      auto completed = co_await blocking(ctx, [&] {
        return model::complete_upload(ctx.store, ctx.bucket_id, ctx.req.key, *version_id, meta);
      });
      if (!completed) done = from_error(completed.error(), ctx.resource());
    }
    if (!done) {
      auto aborted = co_await blocking(ctx, [&] {
        return model::abort_upload(ctx.store, ctx.bucket_id, ctx.req.key, *version_id);
      });
      if (!aborted) LOG_WARN("s3: aborting copy {}: {}", *version_id, aborted.error().to_string());
      co_return std::move(done).error();
    }
  }

  auto h = ctx.response(200);
  set_sse_c_headers(h, meta.sse_c_key_md5);
  h.headers.set("content-type", "application/xml");
  std::string xml = copy_result_xml("CopyObjectResult", now_msec(), "\"" + meta.etag + "\"");
  auto r = co_await ctx.ex.respond(std::move(h), std::move(xml));
  if (!r) co_return make_error(s3_errc::internal_error, r.error().message);
  co_return s3_result<void>();
}

}  // namespace garage::s3
