// GetObject and HeadObject: conditional requests, ranges, response-*
// overrides, and the body streamed block by block (each block read and
// verified on the blocking pool, then written), never whole in memory.
#include <algorithm>
#include <array>

#include "api/common/background.h"
#include "api/s3/checksums.h"
#include "api/s3/conditional.h"
#include "api/s3/object_tagging.h"
#include "api/s3/range.h"
#include "api/s3/request_context.h"
#include "api/s3/sse_c.h"
#include "model/copy_ops.h"
#include "model/object_ops.h"

namespace garage::s3 {

namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kOverrides = {{
    {"response-content-type", "content-type"},
    {"response-content-language", "content-language"},
    {"response-expires", "expires"},
    {"response-cache-control", "cache-control"},
    {"response-content-disposition", "content-disposition"},
    {"response-content-encoding", "content-encoding"},
}};

void object_headers(http::response_head& h, const model::object_version& v) {
  h.headers.set("etag", "\"" + v.meta.etag + "\"");
  h.headers.set("last-modified", http::format_http_date(v.timestamp));
  h.headers.set("accept-ranges", "bytes");
  for (const auto& [name, value] : v.meta.headers) h.headers.set(name, value);
}

// Writes bytes [from, to) of one block read for the response.
s3_task<void> write_piece(request_context& ctx, const result<std::string>& data, uint64_t size,
                          uint64_t from, uint64_t to) {
  if (!data) co_return from_error(data.error(), ctx.resource());
  if (data->size() != size) {
    co_return make_error(s3_errc::internal_error, "block size does not match its version");
  }
  auto w = co_await ctx.ex.write_body(std::string_view(*data).substr(from, to - from));
  if (!w) co_return make_error(s3_errc::internal_error, w.error().message);
  co_return s3_result<void>();
}

// The parts ?partNumber addresses: those of a multipart object (its ETag
// ends in -N), else the whole object as part 1.
std::vector<model::part_extent> parts_of(const model::object_version& v,
                                         const std::optional<model::version>& ver) {
  if (ver && v.meta.etag.find('-') != std::string::npos) {
    auto parts = model::part_extents(*ver);
    if (!parts.empty()) return parts;
  }
  return {model::part_extent{1, 0, v.meta.size}};
}

// Writes bytes [start, start+length) of a block-backed version. The next
// block is read (and verified, and opened with the SSE-C key `key` when the
// object is encrypted) on the blocking pool while this one is written.
s3_task<void> stream_blocks(request_context& ctx, const model::version& ver, uint64_t start,
                            uint64_t length, const std::optional<std::string>& key) {
  struct piece {
    hash256 hash;
    uint64_t size, from, to;
  };
  std::vector<piece> pieces;
  uint64_t pos = 0;  // object offset of the current block
  uint64_t end = start + length;
  for (const auto& [loc, b] : ver.blocks) {
    uint64_t block_end = pos + b.size;
    if (block_end > start && pos < end) {
      pieces.push_back(
          {b.hash, b.size, start > pos ? start - pos : 0, std::min<uint64_t>(b.size, end - pos)});
    }
    pos = block_end;
  }
  // The next block is read (and verified) on the blocking pool while this one
  // is written to the socket.
  using read_job = http::background<result<std::string>>;
  model::store* blocks = &ctx.store;
  auto fetch = [&ctx, blocks, &key](hash256 id) {
    return read_job::start(ctx.rt, [blocks, id, key]() -> result<std::string> {
      GARAGE_ASSIGN_OR_RETURN(auto stored, blocks->get_block(id));
      return open_from_storage(key, std::move(stored));
    });
  };
  read_job next;
  if (!pieces.empty()) next = fetch(pieces[0].hash);
  s3_result<void> outcome;
  for (size_t i = 0; i < pieces.size() && outcome; ++i) {
    co_await next.wait();
    auto data = next.take();
    if (i + 1 < pieces.size()) next = fetch(pieces[i + 1].hash);
    outcome = co_await write_piece(ctx, data, pieces[i].size, pieces[i].from, pieces[i].to);
  }
  if (next.valid()) co_await next.wait();  // the job must not outlive this frame's state
  co_return outcome;
}

}  // namespace

s3_task<void> handle_get_object(request_context& ctx, bool head) {
  // The object and its block list, read together: if an overwrite lands in
  // between (the version we found is already released), read again.
  struct snapshot {
    std::optional<model::object> obj;
    std::optional<model::version> ver;
  };
  auto snap = co_await blocking(ctx, [&]() -> result<snapshot> {
    for (int attempt = 0;; ++attempt) {
      snapshot s;
      GARAGE_ASSIGN_OR_RETURN(s.obj, model::get_object(ctx.store, ctx.bucket_id, ctx.req.key));
      const auto* cur = s.obj ? s.obj->current() : nullptr;
      if (!cur || cur->data != model::version_data::blocks) return s;
      auto ver = model::get_version_for_read(ctx.store, cur->id, cur->meta.size);
      if (ver) {
        s.ver = std::move(*ver);
        return s;
      }
      if (ver.error().code != errc::not_found || attempt == 3) return std::move(ver).error();
    }
  });
  if (!snap) co_return from_error(snap.error(), ctx.resource());
  const model::object_version* v = snap->obj ? snap->obj->current() : nullptr;
  if (!v) co_return make_error(s3_errc::no_such_key, {}, ctx.resource());
  const auto& req_headers = ctx.ex.head().headers;
  auto sse_key = parse_sse_c(req_headers, sse_c_role::object);
  if (!sse_key) co_return std::move(sse_key).error();
  if (auto opens = check_sse_c_key(v->meta.sse_c_key_md5, *sse_key); !opens) {
    s3_error e = std::move(opens).error();
    e.resource = ctx.resource();
    co_return e;
  }
  std::optional<std::string> open_key;
  if (*sse_key) open_key = (*sse_key)->key;

  std::string etag = "\"" + v->meta.etag + "\"";
  switch (evaluate_conditions(conditional_headers::from(req_headers), etag, v->timestamp)) {
    case condition_outcome::proceed:
      break;
    case condition_outcome::not_modified: {
      auto h = ctx.response(304);
      h.headers.set("etag", etag);
      h.headers.set("last-modified", http::format_http_date(v->timestamp));
      auto r = co_await ctx.ex.respond(std::move(h), {});
      (void)r;
      co_return s3_result<void>();
    }
    case condition_outcome::precondition_failed:
      co_return make_error(s3_errc::precondition_failed, {}, ctx.resource());
  }

  const uint64_t size = v->meta.size;
  std::optional<byte_range> range;
  std::optional<size_t> parts_count;  // set for ?partNumber of a multipart object
  if (auto part = ctx.req.part_number) {
    if (req_headers.has("range")) {
      co_return make_error(s3_errc::invalid_request,
                           "Cannot specify both Range header and partNumber query parameter",
                           ctx.resource());
    }
    auto parts = parts_of(*v, snap->ver);
    auto it = std::find_if(parts.begin(), parts.end(),
                           [&](const model::part_extent& p) { return p.part_number == *part; });
    bool multipart = v->meta.etag.find('-') != std::string::npos;
    if (!multipart && *part == 1) it = parts.begin();  // a plain PUT's blocks are part 0
    if (it == parts.end()) {
      co_return make_error(s3_errc::invalid_part_number, {}, ctx.resource());
    }
    if (multipart) {
      parts_count = parts.size();
      if (it->size > 0) range = byte_range{it->offset, it->size};
    }
  } else {
    auto parsed = parse_range(req_headers.get("range"), size);
    if (!parsed) {
      auto h = ctx.response(416);
      h.headers.set("content-range", unsatisfied_content_range(size));
      h.headers.set("content-type", "application/xml");
      std::string body = head ? std::string() : error_xml(parsed.error(), ctx.request_id);
      auto r = co_await ctx.ex.respond(std::move(h), std::move(body));
      (void)r;
      co_return s3_result<void>();
    }
    range = *parsed;
  }

  auto h = ctx.response(range ? 206 : 200);
  object_headers(h, *v);
  set_sse_c_headers(h, v->meta.sse_c_key_md5);
  set_tagging_count_header(h.headers, v->meta);
  // Checksums describe the whole object: not sent for a range or a part.
  if (v->meta.checksum && !range && !parts_count &&
      http::iequals(req_headers.get("x-amz-checksum-mode").value_or(""), "ENABLED")) {
    set_checksum_headers(h.headers, *v->meta.checksum);
  }
  if (parts_count) h.headers.set("x-amz-mp-parts-count", std::to_string(*parts_count));
  if (!ctx.auth.anonymous) {
    for (const auto& [param, header] : kOverrides) {
      if (auto value = ctx.req.param(param)) h.headers.set(header, std::string(*value));
    }
  }
  uint64_t start = range ? range->start : 0;
  uint64_t length = range ? range->length : size;
  if (range) h.headers.set("content-range", content_range(*range, size));

  const std::optional<model::version>& ver = snap->ver;
  const std::string& inline_data = v->inline_data;
  auto begun = co_await ctx.ex.begin_response(std::move(h), length);
  if (!begun) co_return make_error(s3_errc::internal_error, begun.error().message);
  if (!head && length > 0) {
    if (v->data == model::version_data::blocks) {
      if (!ver) co_return make_error(s3_errc::internal_error, "version not found");
      auto s = co_await stream_blocks(ctx, *ver, start, length, open_key);
      if (!s) co_return s;
    } else {
      auto plain = open_from_storage(open_key, inline_data);
      if (!plain) co_return make_error(s3_errc::internal_error, plain.error().message);
      auto w = co_await ctx.ex.write_body(std::string_view(*plain).substr(start, length));
      if (!w) co_return make_error(s3_errc::internal_error, w.error().message);
    }
  }
  auto ended = co_await ctx.ex.end_response();
  if (!ended) co_return make_error(s3_errc::internal_error, ended.error().message);
  co_return s3_result<void>();
}

}  // namespace garage::s3
