// UploadPartCopy: a part of a multipart upload made from a range of an
// existing object. Blocks that lie wholly inside the range, and are stored
// the way the upload stores its own (same SSE-C key or both plain), are
// referenced again (model/copy_ops.h); the blocks cut by the range's edges,
// and every block when the keys differ, are read, sliced, sealed for the
// upload and written as new blocks. The part's ETag is the MD5 of its bytes
// (random for an SSE-C upload, as AWS), so a plain part reads the shared
// blocks without writing them, except when it is a whole single-part source,
// whose ETag is that MD5 already.
#include "api/s3/copy_params.h"
#include "api/s3/copy_source_loader.h"
#include "model/copy_ops.h"
#include "model/multipart_ops.h"
#include "model/object_ops.h"
#include "util/clock.h"
#include "util/encoding.h"
#include "util/hash.h"

namespace garage::s3 {

s3_task<void> handle_upload_part_copy(request_context& ctx) {
  const auto& headers = ctx.ex.head().headers;
  if (!ctx.req.upload_id) co_return make_error(s3_errc::no_such_upload, {}, ctx.resource());
  auto up = co_await blocking(ctx, [&] {
    return model::get_upload(ctx.store, ctx.bucket_id, ctx.req.key, *ctx.req.upload_id);
  });
  if (!up) {
    if (up.error().code == errc::not_found) {
      co_return make_error(s3_errc::no_such_upload, {}, ctx.resource());
    }
    co_return from_error(up.error(), ctx.resource());
  }
  auto dest_key = parse_sse_c(headers, sse_c_role::object);
  if (!dest_key) co_return std::move(dest_key).error();
  // Every part of an SSE-C upload carries the upload's key.
  auto same_upload_key = check_sse_c_key(up->upload.meta.sse_c_key_md5, *dest_key);
  if (!same_upload_key) co_return std::move(same_upload_key).error();
  if (*dest_key) ctx.sse_c_key = (*dest_key)->key;

  auto src = co_await load_copy_source(ctx);
  if (!src) co_return std::move(src).error();
  const model::object_version& sv = src->version;
  const uint64_t size = sv.meta.size;
  http::byte_range range{0, size};
  if (auto h = headers.get("x-amz-copy-source-range")) {
    auto r = parse_copy_source_range(*h, size);
    if (!r) co_return std::move(r).error();
    range = *r;
  }
  if (range.length > kMaxObjectPartSize) {
    co_return make_error(s3_errc::entity_too_large, {}, ctx.resource());
  }
  if (auto q = co_await check_size_quota_not_reached(ctx); !q) co_return std::move(q).error();

  const uint32_t part = *ctx.req.part_number;
  const uint64_t attempt = new_part_attempt();
  const std::string upload_id = *ctx.req.upload_id;
  const bool same_bytes = sv.meta.sse_c_key_md5 == up->upload.meta.sse_c_key_md5;
  // A whole plain single-part source already has the part's ETag.
  const bool whole_known = !ctx.sse_c_key && !src->open_key && range.start == 0 &&
                           range.length == size && sv.meta.etag.find('-') == std::string::npos;
  const bool need_md5 = !ctx.sse_c_key && !whole_known;
  digest_hasher md5("MD5");

  // Stores a plain piece as a new block of the part, sealed for the upload.
  auto store_piece = [&](std::string plain, uint64_t offset) -> result<void> {
    uint64_t plain_size = plain.size();
    GARAGE_ASSIGN_OR_RETURN(auto sealed, seal_for_storage(ctx.sse_c_key, std::move(plain)));
    hash256 id = blake2b_256(sealed);
    GARAGE_TRY(ctx.store.put_block(id, sealed));
    return model::add_block(ctx.store, upload_id, ctx.bucket_id, ctx.req.key,
                            model::block_location{part, attempt, offset},
                            model::version_block{id, plain_size});
  };

  if (sv.data == model::version_data::inline_bytes) {
    auto stored = co_await blocking(ctx, [&]() -> result<void> {
      GARAGE_ASSIGN_OR_RETURN(auto plain, open_from_storage(src->open_key, sv.inline_data));
      std::string piece = plain.substr(range.start, range.length);
      if (need_md5) md5.update(piece);
      if (piece.empty()) return ok();
      return store_piece(std::move(piece), 0);
    });
    if (!stored) co_return from_error(stored.error(), ctx.resource());
  } else if (src->data) {
    std::vector<std::pair<model::block_location, model::version_block>> shared;
    uint64_t offset = 0;
    const std::vector<copy_piece> pieces = plan_copy(*src->data, range.start, range.length);
    for (const auto& piece : pieces) {
      const bool share = same_bytes && piece.whole();
      const uint64_t at = offset;
      offset += piece.to - piece.from;
      if (share && !need_md5) {
        shared.push_back({{part, attempt, at}, piece.block});
        continue;
      }
      auto done = co_await blocking(ctx, [&]() -> result<void> {
        GARAGE_ASSIGN_OR_RETURN(auto plain, read_source_piece(ctx.store, piece.block.hash,
                                                              src->open_key, piece.from, piece.to));
        if (need_md5) md5.update(plain);
        if (share) return ok();
        return store_piece(std::move(plain), at);
      });
      if (!done) co_return from_error(done.error(), ctx.resource());
      if (share) shared.push_back({{part, attempt, at}, piece.block});
    }
    if (!shared.empty()) {
      auto added = co_await blocking(ctx, [&] {
        return model::add_shared_blocks(ctx.store, upload_id, ctx.bucket_id, ctx.req.key, shared,
                                        sv.id);
      });
      if (!added) {
        if (added.error().code == errc::not_found) {
          co_return make_error(s3_errc::no_such_key, {}, "/" + src->key);
        }
        if (added.error().code == errc::conflict) {
          co_return make_error(s3_errc::no_such_upload, {}, ctx.resource());
        }
        co_return from_error(added.error(), ctx.resource());
      }
    }
  } else {
    co_return make_error(s3_errc::internal_error, "copy source has no block list");
  }

  model::part_info info;
  info.size = range.length;
  info.etag = whole_known ? sv.meta.etag : copy_etag(ctx.sse_c_key, need_md5 ? md5.finish() : "");
  auto added = co_await blocking(ctx, [&] {
    return model::add_part(ctx.store, upload_id, ctx.bucket_id, ctx.req.key, {part, attempt}, info);
  });
  if (!added) {
    if (added.error().code == errc::not_found) {
      co_return make_error(s3_errc::no_such_upload, {}, ctx.resource());
    }
    co_return from_error(added.error(), ctx.resource());
  }
  auto h = ctx.response(200);
  set_sse_c_headers(h, up->upload.meta.sse_c_key_md5);
  h.headers.set("content-type", "application/xml");
  std::string xml = copy_result_xml("CopyPartResult", now_msec(), "\"" + info.etag + "\"");
  auto r = co_await ctx.ex.respond(std::move(h), std::move(xml));
  if (!r) co_return make_error(s3_errc::internal_error, r.error().message);
  co_return s3_result<void>();
}

}  // namespace garage::s3
