// Multipart upload: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
// AbortMultipartUpload, ListParts and ListMultipartUploads (model/multipart_ops.h
// holds the data side). UploadPartCopy is not implemented yet.
#include "api/s3/body_reader.h"
#include "api/s3/checksums.h"
#include "api/s3/list_walk.h"
#include "api/s3/object_headers.h"
#include "api/s3/object_tagging.h"
#include "api/s3/request_context.h"
#include "api/s3/s3_xml.h"
#include "api/s3/sse_c.h"
#include "model/multipart_ops.h"
#include "model/object_ops.h"
#include "util/clock.h"
#include "util/encoding.h"
#include "util/random.h"

namespace garage::s3 {

namespace {

constexpr uint64_t kMinPartSize = 5ull << 20;
constexpr size_t kMaxCompleteBody = 4 << 20;

s3_error no_such_upload(const request_context& ctx) {
  return make_error(s3_errc::no_such_upload, {}, ctx.resource());
}

// Loads the upload named by ?uploadId, mapping "not there" to NoSuchUpload.
http::task<s3_result<model::upload_info>> load_upload(request_context& ctx) {
  if (!ctx.req.upload_id) co_return no_such_upload(ctx);
  auto up = co_await blocking(ctx, [&] {
    return model::get_upload(ctx.store, ctx.bucket_id, ctx.req.key, *ctx.req.upload_id);
  });
  if (!up) {
    if (up.error().code == errc::not_found) co_return no_such_upload(ctx);
    co_return from_error(up.error(), ctx.resource());
  }
  co_return std::move(*up);
}

}  // namespace

uint64_t new_part_attempt() {
  auto r = random_bytes(2);
  return (now_msec() << 16) | (uint64_t(uint8_t(r[0])) << 8) | uint8_t(r[1]);
}

s3_task<void> handle_create_multipart_upload(request_context& ctx) {
  auto headers = stored_headers(ctx.ex.head().headers);
  if (!headers) co_return std::move(headers).error();
  // SSE-C: the upload records the key's MD5; every part must carry the key.
  auto sse_key = parse_sse_c(ctx.ex.head().headers, sse_c_role::object);
  if (!sse_key) co_return std::move(sse_key).error();
  model::object_meta initial;
  initial.headers = std::move(*headers);
  if (*sse_key) initial.sse_c_key_md5 = (*sse_key)->md5;
  auto tags = parse_tagging_header(ctx.ex.head().headers);
  if (!tags) co_return std::move(tags).error();
  initial.tags = std::move(*tags);
  // x-amz-checksum-algorithm: every part gets that checksum, and the object
  // the composite or full-object checksum of them.
  auto upload_checksum = parse_upload_checksum(ctx.ex.head().headers);
  if (!upload_checksum) co_return std::move(upload_checksum).error();
  initial.checksum = std::move(*upload_checksum);
  auto id = co_await blocking(ctx, [&] {
    return model::begin_upload(ctx.store, ctx.bucket_id, ctx.req.key, true, initial);
  });
  if (!id) co_return from_error(id.error(), ctx.resource());
  auto h = ctx.response(200);
  h.headers.set("content-type", "application/xml");
  set_sse_c_headers(h, initial.sse_c_key_md5);
  if (initial.checksum) {
    h.headers.set("x-amz-checksum-algorithm",
                  std::string(checksum_name(initial.checksum->algorithm)));
    h.headers.set("x-amz-checksum-type", initial.checksum->composite ? "COMPOSITE" : "FULL_OBJECT");
  }
  auto r = co_await ctx.ex.respond(std::move(h),
                                   initiate_multipart_xml(ctx.req.bucket, ctx.req.key, *id));
  if (!r) co_return make_error(s3_errc::internal_error, r.error().message);
  co_return s3_result<void>();
}

s3_task<void> handle_upload_part(request_context& ctx) {
  auto up = co_await load_upload(ctx);
  if (!up) co_return std::move(up).error();
  auto sse_key = parse_sse_c(ctx.ex.head().headers, sse_c_role::object);
  if (!sse_key) co_return std::move(sse_key).error();
  if (auto same = check_sse_c_key(up->upload.meta.sse_c_key_md5, *sse_key); !same) {
    co_return std::move(same).error();
  }
  if (*sse_key) ctx.sse_c_key = (*sse_key)->key;
  auto made = body_reader::make(ctx);
  if (!made) co_return std::move(made).error();
  body_reader& body = **made;
  if (body.declared_size() && *body.declared_size() > kMaxObjectPartSize) {
    co_return make_error(s3_errc::entity_too_large, {}, ctx.resource());
  }
  if (const auto& sum = up->upload.meta.checksum) {
    if (auto same = body.require_checksum(sum->algorithm); !same) co_return std::move(same).error();
  }
  if (auto q = co_await check_size_quota_not_reached(ctx); !q) co_return std::move(q).error();
  const uint32_t part = *ctx.req.part_number;
  const uint64_t attempt = new_part_attempt();
  const std::string upload_id = *ctx.req.upload_id;
  auto stored = co_await store_blocks(ctx, body, upload_id, {}, part, attempt);
  if (!stored) co_return std::move(stored).error();
  if (auto f = body.finish(); !f) co_return std::move(f).error();
  model::part_info info{hex_encode(body.md5()), body.bytes_read()};
  if (ctx.sse_c_key) info.etag = random_hex(16);  // not the MD5 of the data, as AWS
  if (body.checksum()) info.checksum = body.checksum()->second;
  auto added = co_await blocking(ctx, [&] {
    return model::add_part(ctx.store, upload_id, ctx.bucket_id, ctx.req.key, {part, attempt}, info);
  });
  if (!added) co_return from_error(added.error(), ctx.resource());
  auto h = ctx.response(200);
  h.headers.set("etag", "\"" + info.etag + "\"");
  set_sse_c_headers(h, up->upload.meta.sse_c_key_md5);
  if (body.checksum()) {
    h.headers.set(checksum_header(body.checksum()->first), base64_encode(info.checksum));
  }
  auto r = co_await ctx.ex.respond(std::move(h), {});
  if (!r) co_return make_error(s3_errc::internal_error, r.error().message);
  co_return s3_result<void>();
}

s3_task<void> handle_complete_multipart_upload(request_context& ctx) {
  auto pre = parse_write_precondition(ctx.ex.head().headers);
  if (!pre) co_return std::move(pre).error();
  // x-amz-checksum-* here is the whole object's, not the XML body's.
  auto reader = body_reader::make(ctx, false);
  if (!reader) co_return std::move(reader).error();
  auto body = co_await (*reader)->read_all(kMaxCompleteBody);
  if (!body) co_return std::move(body).error();
  auto requested = parse_complete_multipart(*body);
  if (!requested) co_return std::move(requested).error();
  auto up = co_await load_upload(ctx);
  if (!up) co_return std::move(up).error();

  // The latest attempt of each part with the ETag the client names.
  std::vector<model::part_key> chosen;
  std::vector<uint64_t> sizes;
  std::vector<std::string> part_checksums;
  std::string md5s;
  uint64_t size = 0;
  for (size_t i = 0; i < requested->size(); ++i) {
    const auto& rp = (*requested)[i];
    if (i > 0 && rp.part_number <= (*requested)[i - 1].part_number) {
      co_return make_error(s3_errc::invalid_part_order, {}, ctx.resource());
    }
    const model::part_key* found = nullptr;
    const model::part_info* info = nullptr;
    for (const auto& [k, p] : up->blocks.parts) {
      if (k.part_number == rp.part_number && p.etag == rp.etag) {
        found = &k;
        info = &p;
      }
    }
    if (!found) {
      co_return make_error(
          s3_errc::invalid_part,
          "Part " + std::to_string(rp.part_number) + " was not uploaded or its ETag does not match",
          ctx.resource());
    }
    chosen.push_back(*found);
    sizes.push_back(info->size);
    part_checksums.push_back(info->checksum);
    auto raw = hex_decode(info->etag);
    md5s += raw ? *raw : std::string();
    size += info->size;
  }
  // Sizes are checked once every part is known to exist, as AWS does.
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    if (sizes[i] < kMinPartSize) {
      co_return make_error(s3_errc::entity_too_small,
                           "Part " + std::to_string(chosen[i].part_number) +
                               " is smaller than 5 MiB and is not the last part",
                           ctx.resource());
    }
  }
  if (auto q = co_await check_quotas(ctx, size); !q) co_return std::move(q).error();
  model::object_meta meta;
  meta.size = size;
  meta.etag = hex_encode(md5(md5s)) + "-" + std::to_string(chosen.size());
  meta.headers = up->upload.meta.headers;
  meta.sse_c_key_md5 = up->upload.meta.sse_c_key_md5;
  meta.tags = up->upload.meta.tags;
  auto sum = complete_checksum(ctx.ex.head().headers, *body, up->upload.meta.checksum, chosen,
                               part_checksums, sizes);
  if (!sum) co_return std::move(sum).error();
  meta.checksum = std::move(*sum);
  auto done = co_await blocking(ctx, [&] {
    return model::complete_multipart(ctx.store, ctx.bucket_id, ctx.req.key, *ctx.req.upload_id,
                                     chosen, meta, *pre);
  });
  if (!done) {
    if (auto e = precondition_error(done.error(), ctx.resource())) co_return std::move(*e);
    if (done.error().code == errc::not_found) co_return no_such_upload(ctx);
    co_return from_error(done.error(), ctx.resource());
  }
  std::string location = "/" + ctx.req.bucket + "/" + uri_encode(ctx.req.key, true);
  co_return co_await respond_xml(
      ctx, complete_multipart_xml(location, ctx.req.bucket, ctx.req.key, "\"" + meta.etag + "\""));
}

s3_task<void> handle_abort_multipart_upload(request_context& ctx) {
  auto up = co_await load_upload(ctx);
  if (!up) co_return std::move(up).error();
  auto aborted = co_await blocking(ctx, [&] {
    return model::abort_upload(ctx.store, ctx.bucket_id, ctx.req.key, *ctx.req.upload_id);
  });
  if (!aborted) co_return from_error(aborted.error(), ctx.resource());
  co_return co_await respond_empty(ctx, 204);
}

s3_task<void> handle_list_parts(request_context& ctx) {
  auto up = co_await load_upload(ctx);
  if (!up) co_return std::move(up).error();
  auto number = [](std::optional<std::string_view> v, uint32_t dflt) -> std::optional<uint32_t> {
    if (!v) return dflt;
    if (v->empty() || v->size() > 6) return std::nullopt;
    uint32_t n = 0;
    for (char c : *v) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + static_cast<uint32_t>(c - '0');
    }
    return n;
  };
  auto marker = number(ctx.req.param("part-number-marker"), 0);
  auto max_parts = number(ctx.req.param("max-parts"), 1000);
  if (!marker || !max_parts) {
    co_return make_error(s3_errc::invalid_argument, "Invalid part-number-marker or max-parts");
  }
  list_parts_result r;
  r.bucket = ctx.req.bucket;
  r.key = ctx.req.key;
  r.upload_id = *ctx.req.upload_id;
  r.part_number_marker = *marker;
  r.max_parts = std::min<uint32_t>(*max_parts, 1000);
  r.initiator = owner{ctx.key->id, ctx.key->name.value};
  for (const auto& [k, p] : model::latest_parts(up->blocks)) {
    if (k.part_number <= *marker) continue;
    if (r.parts.size() == r.max_parts) {
      r.is_truncated = true;
      break;
    }
    r.parts.push_back({k.part_number, k.attempt >> 16, "\"" + p.etag + "\"", p.size});
    if (const auto& sum = up->upload.meta.checksum; sum && !p.checksum.empty()) {
      r.parts.back().checksum_element = std::string(checksum_name(sum->algorithm));
      r.parts.back().checksum = base64_encode(p.checksum);
    }
  }
  if (r.is_truncated && !r.parts.empty()) r.next_part_number_marker = r.parts.back().part_number;
  co_return co_await respond_xml(ctx, list_parts_xml(r));
}

s3_task<void> handle_list_multipart_uploads(request_context& ctx) {
  list_uploads_result r;
  r.bucket = ctx.req.bucket;
  if (auto d = ctx.req.param("delimiter"); d && !d->empty()) r.delimiter = std::string(*d);
  r.prefix = std::string(ctx.req.param("prefix").value_or(""));
  r.key_marker = std::string(ctx.req.param("key-marker").value_or(""));
  r.upload_id_marker = std::string(ctx.req.param("upload-id-marker").value_or(""));
  auto max = ctx.req.param("max-uploads");
  if (max) {
    uint32_t n = 0;
    if (max->empty() || max->size() > 6) {
      co_return make_error(s3_errc::invalid_argument, "Invalid max-uploads");
    }
    for (char c : *max) {
      if (c < '0' || c > '9')
        co_return make_error(s3_errc::invalid_argument, "Invalid max-uploads");
      n = n * 10 + static_cast<uint32_t>(c - '0');
    }
    r.max_uploads = std::min<uint32_t>(n, 1000);
  }
  r.initiator = owner{ctx.key->id, ctx.key->name.value};
  // Uploads in (key, initiation) order, after (key-marker, upload-id-marker):
  // with only a key marker, every upload of keys after it. With a delimiter,
  // the keys that have it after the prefix fold into one common prefix each;
  // uploads and prefixes together count against max-uploads.
  bool last_is_prefix = false;
  auto listed = co_await blocking(ctx, [&]() -> result<void> {
    std::string start = std::max(r.prefix, r.key_marker);
    while (true) {
      GARAGE_ASSIGN_OR_RETURN(auto page,
                              model::objects_with_uploads(ctx.store, ctx.bucket_id, start, 200));
      std::optional<std::string> skip_to;  // past a common prefix just listed
      for (const auto& o : page) {
        if (!o.key.starts_with(r.prefix)) return ok();
        if (o.key < r.key_marker) continue;
        if (r.delimiter) {
          size_t at = o.key.find(*r.delimiter, r.prefix.size());
          if (at != std::string::npos) {
            std::string cp = o.key.substr(0, at + r.delimiter->size());
            // A key marker that is this prefix (a NextKeyMarker) resumes after it.
            if (cp != r.key_marker) {
              if (r.uploads.size() + r.common_prefixes.size() == r.max_uploads) {
                r.is_truncated = true;
                return ok();
              }
              r.common_prefixes.push_back(cp);
              last_is_prefix = true;
            }
            skip_to = prefix_successor(cp);
            if (skip_to->empty()) return ok();
            break;
          }
        }
        // At the marker's key: nothing, or the uploads after upload-id-marker.
        if (o.key == r.key_marker && r.upload_id_marker.empty()) continue;
        bool skipping = o.key == r.key_marker;
        for (const auto& v : o.versions) {
          if (v.state != model::version_state::uploading || !v.multipart) continue;
          if (skipping) {
            if (v.id == r.upload_id_marker) skipping = false;
            continue;
          }
          if (r.uploads.size() + r.common_prefixes.size() == r.max_uploads) {
            r.is_truncated = true;
            return ok();
          }
          r.uploads.push_back({o.key, v.id, v.timestamp});
          last_is_prefix = false;
        }
      }
      if (skip_to) {
        start = *skip_to;
        continue;
      }
      if (page.size() < 200) return ok();
      start = page.back().key + std::string(1, '\0');
    }
  });
  if (!listed) co_return from_error(listed.error(), ctx.resource());
  if (r.is_truncated && last_is_prefix) {
    r.next_key_marker = r.common_prefixes.back();
  } else if (r.is_truncated && !r.uploads.empty()) {
    r.next_key_marker = r.uploads.back().key;
    r.next_upload_id_marker = r.uploads.back().upload_id;
  }
  co_return co_await respond_xml(ctx, list_uploads_xml(r));
}

}  // namespace garage::s3
