// PutObject: the body streams through a block splitter. Small objects are
// stored inline in the object entry; larger ones become blocks (hashed,
// compressed and written on the blocking pool) referenced by a version, and
// the object flips to the new version only once every block is stored and the
// digests are checked. Any failure aborts the version, which releases its
// blocks.
#include <future>

#include "api/common/background.h"
#include "api/s3/body_reader.h"
#include "api/s3/checksums.h"
#include "api/s3/object_headers.h"
#include "api/s3/object_tagging.h"
#include "api/s3/request_context.h"
#include "api/s3/sse_c.h"
#include "model/ids.h"
#include "model/object_ops.h"
#include "util/encoding.h"
#include "util/log.h"
#include "util/random.h"

namespace garage::s3 {

namespace {

constexpr uint64_t kMaxPutSize = kMaxObjectPartSize;

s3_task<void> respond_put(request_context& ctx, const std::string& etag,
                          const std::optional<model::object_checksum>& checksum = std::nullopt) {
  auto h = ctx.response(200);
  h.headers.set("etag", "\"" + etag + "\"");
  if (checksum) set_checksum_headers(h.headers, *checksum);
  if (ctx.sse_c_key) set_sse_c_headers(h, md5(*ctx.sse_c_key));
  auto r = co_await ctx.ex.respond(std::move(h), {});
  if (!r) co_return make_error(s3_errc::internal_error, r.error().message);
  co_return s3_result<void>();
}

}  // namespace

s3_task<void> store_blocks(request_context& ctx, body_reader& body, const std::string& version_id,
                           std::string first, uint32_t part_number, uint64_t attempt) {
  fill_function fill = [&body](std::string& out, size_t want) { return body.fill(out, want); };
  co_return co_await store_blocks(ctx, fill, version_id, std::move(first), part_number, attempt);
}

s3_task<void> store_blocks(request_context& ctx, const fill_function& fill,
                           const std::string& version_id, std::string first, uint32_t part_number,
                           uint64_t attempt) {
  // Each full block is hashed and stored on the blocking pool while the next
  // one arrives from the network: at most two blocks of a request in memory.
  using store_job = http::background<result<void>>;
  const uint64_t block_size = ctx.cfg.block_size;
  model::store* store = &ctx.store;
  auto start_store = [&](std::string data, uint64_t offset) {
    return store_job::start(
        ctx.rt,
        [store, data = std::move(data), offset, version_id, bucket_id = ctx.bucket_id,
         key = ctx.req.key, part_number, attempt, sse_c_key = ctx.sse_c_key]() -> result<void> {
          // SSE-C: the block stored (and named by its hash) is the sealed one.
          GARAGE_ASSIGN_OR_RETURN(auto stored, seal_for_storage(sse_c_key, data));
          hash256 id = blake2b_256(stored);
          auto reference = [&] {
            return model::add_block(*store, version_id, bucket_id, key,
                                    model::block_location{part_number, attempt, offset},
                                    model::version_block{id, data.size()});
          };
          if (!store->clustered()) {
            GARAGE_TRY(store->put_block(id, stored));
            return reference();
          }
          // In a cluster both are quorum writes to other zones: side by side
          // they cost one round trip. Nobody reads the version before the
          // upload completes, and a failure aborts it (references released).
          auto referenced = std::async(std::launch::async, reference);
          auto put = store->put_block(id, stored);
          auto ref = referenced.get();
          GARAGE_TRY(put);
          return ref;
        });
  };
  store_job inflight;
  uint64_t offset = 0;
  std::string buf = std::move(first);
  s3_result<void> outcome;
  while (outcome) {
    auto n = co_await fill(buf, block_size);
    if (!n) {
      outcome = std::move(n).error();
      break;
    }
    if (buf.empty()) break;
    if (offset + buf.size() > kMaxPutSize) {
      outcome = make_error(s3_errc::entity_too_large, {}, ctx.resource());
      break;
    }
    if (inflight.valid()) {
      co_await inflight.wait();
      auto stored = inflight.take();
      if (!stored) {
        outcome = from_error(stored.error(), ctx.resource());
        break;
      }
    }
    uint64_t size = buf.size();
    inflight = start_store(std::move(buf), offset);
    buf = std::string();
    offset += size;
  }
  if (inflight.valid()) {
    co_await inflight.wait();
    auto stored = inflight.take();
    if (!stored && outcome) outcome = from_error(stored.error(), ctx.resource());
  }
  co_return outcome;
}

s3_task<void> handle_put_object(request_context& ctx) {
  auto headers = stored_headers(ctx.ex.head().headers);
  if (!headers) co_return std::move(headers).error();
  auto tags = parse_tagging_header(ctx.ex.head().headers);
  if (!tags) co_return std::move(tags).error();
  auto pre = parse_write_precondition(ctx.ex.head().headers);
  if (!pre) co_return std::move(pre).error();
  auto sse_key = parse_sse_c(ctx.ex.head().headers, sse_c_role::object);
  if (!sse_key) co_return std::move(sse_key).error();
  if (*sse_key) ctx.sse_c_key = (*sse_key)->key;
  auto made = body_reader::make(ctx);
  if (!made) co_return std::move(made).error();
  body_reader& body = **made;
  if (body.declared_size() && *body.declared_size() > kMaxPutSize) {
    co_return make_error(s3_errc::entity_too_large, {}, ctx.resource());
  }
  if (body.declared_size()) {
    if (auto q = co_await check_quotas(ctx, *body.declared_size()); !q)
      co_return std::move(q).error();
  }

  // Read up to the inline threshold first: most small objects end there.
  const uint64_t inline_max = ctx.cfg.inline_threshold;
  std::string first;
  auto n = co_await body.fill(first, inline_max + 1);
  if (!n) co_return std::move(n).error();

  model::object_meta meta;
  meta.headers = std::move(*headers);
  meta.tags = std::move(*tags);
  if (*sse_key) meta.sse_c_key_md5 = (*sse_key)->md5;
  auto take_checksum = [&] {
    if (body.checksum()) {
      meta.checksum =
          model::object_checksum{body.checksum()->first, false, 0, body.checksum()->second};
    }
  };
  if (first.size() <= inline_max) {
    if (auto f = body.finish(); !f) co_return std::move(f).error();
    meta.size = first.size();
    meta.etag = hex_encode(body.md5());
    take_checksum();
    if (ctx.sse_c_key) {
      // AWS's ETag of an SSE-C object is not the MD5 of its data.
      meta.etag = random_hex(16);
      auto sealed = seal_for_storage(ctx.sse_c_key, std::move(first));
      if (!sealed) co_return from_error(sealed.error(), ctx.resource());
      first = std::move(*sealed);
    }
    if (!body.declared_size()) {
      if (auto q = co_await check_quotas(ctx, meta.size); !q) co_return std::move(q).error();
    }
    auto put = co_await blocking(ctx, [&] {
      return model::put_inline(ctx.store, ctx.bucket_id, ctx.req.key, meta, std::move(first), *pre);
    });
    if (!put) {
      if (auto e = precondition_error(put.error(), ctx.resource())) co_return std::move(*e);
      co_return from_error(put.error(), ctx.resource());
    }
    co_return co_await respond_put(ctx, meta.etag, meta.checksum);
  }

  result<std::string> version_id = std::string();
  s3_result<void> stored;
  if (!ctx.store.clustered()) {
    version_id = co_await blocking(
        ctx, [&] { return model::begin_upload(ctx.store, ctx.bucket_id, ctx.req.key, false); });
    if (!version_id) co_return from_error(version_id.error(), ctx.resource());
    stored = co_await store_blocks(ctx, body, *version_id, std::move(first), 0, 0);
  } else {
    // In a cluster the upload's object entry and the first blocks are quorum
    // writes to other zones: side by side they cost one round trip. The
    // version id is chosen here so that blocks can reference it before the
    // object entry lands; if that entry never lands (its quorum failed, or
    // this node crashed), the version is aborted below, or swept by
    // maintenance once idle.
    *version_id = model::new_version_id();
    auto begun = http::background<result<std::string>>::start(
        ctx.rt,
        [store = &ctx.store, bucket_id = ctx.bucket_id, key = ctx.req.key, id = *version_id] {
          return model::begin_upload(*store, bucket_id, key, false, model::object_meta{}, id);
        });
    stored = co_await store_blocks(ctx, body, *version_id, std::move(first), 0, 0);
    co_await begun.wait();
    auto began = begun.take();
    if (!began) {
      auto aborted = co_await blocking(ctx, [&] {
        return model::abort_upload(ctx.store, ctx.bucket_id, ctx.req.key, *version_id);
      });
      if (!aborted)
        LOG_WARN("s3: aborting upload {}: {}", *version_id, aborted.error().to_string());
      co_return from_error(began.error(), ctx.resource());
    }
  }
  s3_result<void> checked = stored ? body.finish() : std::move(stored);
  // A body of unknown size is checked once its size is known.
  if (checked && !body.declared_size()) checked = co_await check_quotas(ctx, body.bytes_read());
  if (!checked) {
    auto aborted = co_await blocking(ctx, [&] {
      return model::abort_upload(ctx.store, ctx.bucket_id, ctx.req.key, *version_id);
    });
    if (!aborted) LOG_WARN("s3: aborting upload {}: {}", *version_id, aborted.error().to_string());
    co_return std::move(checked).error();
  }
  meta.size = body.bytes_read();
  meta.etag = ctx.sse_c_key ? random_hex(16) : hex_encode(body.md5());
  take_checksum();
  auto completed = co_await blocking(ctx, [&] {
    return model::complete_upload(ctx.store, ctx.bucket_id, ctx.req.key, *version_id, meta, *pre);
  });
  if (!completed) {
    if (auto e = precondition_error(completed.error(), ctx.resource())) {
      auto aborted = co_await blocking(ctx, [&] {
        return model::abort_upload(ctx.store, ctx.bucket_id, ctx.req.key, *version_id);
      });
      if (!aborted)
        LOG_WARN("s3: aborting upload {}: {}", *version_id, aborted.error().to_string());
      co_return std::move(*e);
    }
    if (completed.error().code == errc::conflict) {
      co_return make_error(s3_errc::operation_aborted, completed.error().message, ctx.resource());
    }
    co_return from_error(completed.error(), ctx.resource());
  }
  co_return co_await respond_put(ctx, meta.etag, meta.checksum);
}

}  // namespace garage::s3
