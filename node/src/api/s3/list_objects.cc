// ListObjects (v1) and ListObjectsV2.
#include "api/s3/list_walk.h"
#include "api/s3/request_context.h"
#include "api/s3/s3_xml.h"
#include "model/object_ops.h"
#include "util/encoding.h"

namespace garage::s3 {

namespace {

s3_result<uint64_t> parse_max_keys(std::optional<std::string_view> v) {
  if (!v) return uint64_t{1000};
  if (v->empty() || v->size() > 9) return make_error(s3_errc::invalid_argument, "Invalid max-keys");
  uint64_t n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return make_error(s3_errc::invalid_argument, "Invalid max-keys");
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return std::min<uint64_t>(n, 1000);
}

}  // namespace

s3_task<void> handle_list_objects(request_context& ctx, bool v2) {
  const auto& req = ctx.req;
  auto max_keys = parse_max_keys(req.param("max-keys"));
  if (!max_keys) co_return std::move(max_keys).error();

  list_objects_result r;
  r.v2 = v2;
  r.bucket = req.bucket;
  r.prefix = std::string(req.param("prefix").value_or(""));
  if (auto d = req.param("delimiter")) r.delimiter = std::string(*d);
  r.max_keys = *max_keys;
  if (auto enc = req.param("encoding-type")) {
    if (*enc != "url") co_return make_error(s3_errc::invalid_argument, "Invalid encoding-type");
    r.url_encoding = true;
  }
  std::string after;
  if (v2) {
    if (auto token = req.param("continuation-token")) {
      auto decoded = base64_decode(*token);
      if (!decoded || decoded->empty() || (*decoded)[0] != 'k') {
        co_return make_error(s3_errc::invalid_argument, "The continuation token is not valid");
      }
      r.continuation_token = std::string(*token);
      after = decoded->substr(1);
    } else if (auto sa = req.param("start-after")) {
      r.start_after = std::string(*sa);
      after = *r.start_after;
    }
    if (req.param("fetch-owner").value_or("false") == "true") {
      r.entry_owner = owner{ctx.key->id, ctx.key->name.value};
    }
  } else {
    r.marker = std::string(req.param("marker").value_or(""));
    after = r.marker;
    r.entry_owner = owner{ctx.key->id, ctx.key->name.value};
  }

  auto walked = co_await blocking(ctx, [&] {
    page_source source = [&](const std::string& start, bool exclusive, size_t limit) {
      return model::list_objects(ctx.store, ctx.bucket_id, start, exclusive, limit);
    };
    return list_walk(source, r.prefix, r.delimiter, after, r.max_keys);
  });
  if (!walked) co_return from_error(walked.error(), ctx.resource());

  for (const auto& o : walked->objects) {
    const auto* v = o.current();
    r.contents.push_back({o.key, v->timestamp, "\"" + v->meta.etag + "\"", v->meta.size});
  }
  r.common_prefixes = std::move(walked->common_prefixes);
  r.is_truncated = walked->truncated;
  if (r.is_truncated && walked->next_marker) {
    if (v2) {
      r.next_continuation_token = base64_encode("k" + *walked->next_marker);
    } else if (r.delimiter) {
      r.next_marker = *walked->next_marker;
    }
  }
  co_return co_await respond_xml(ctx, list_objects_xml(r));
}

}  // namespace garage::s3
