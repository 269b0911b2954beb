#include "api/s3/copy_source_loader.h"

#include "api/s3/copy_params.h"
#include "api/s3/s3_xml.h"
#include "model/bucket_ops.h"
#include "model/object_ops.h"
#include "util/encoding.h"
#include "util/random.h"

namespace garage::s3 {

s3_task<copy_source_object> load_copy_source(request_context& ctx) {
  const auto& headers = ctx.ex.head().headers;
  auto parsed = parse_copy_source(headers.get("x-amz-copy-source").value_or(""));
  if (!parsed) co_return std::move(parsed).error();
  if (parsed->version_id && *parsed->version_id != "null") {
    co_return make_error(s3_errc::invalid_argument, "Invalid version id specified");
  }
  auto source_key = parse_sse_c(headers, sse_c_role::copy_source);
  if (!source_key) co_return std::move(source_key).error();
  const std::string resource = "/" + parsed->bucket + "/" + parsed->key;

  struct loaded {
    std::string bucket_id;
    std::optional<model::object> obj;
    std::optional<model::version> ver;
  };
  auto got = co_await blocking(ctx, [&]() -> s3_result<loaded> {
    loaded l;
    auto id = model::resolve_bucket_name(ctx.store, &*ctx.key, parsed->bucket);
    if (!id) {
      if (id.error().code == errc::not_found) {
        return make_error(s3_errc::no_such_bucket, {}, "/" + parsed->bucket);
      }
      return from_error(id.error(), resource);
    }
    l.bucket_id = std::move(*id);
    if (!ctx.key->permission_on(l.bucket_id).read) {
      return make_error(s3_errc::access_denied, {}, resource);
    }
    // The object and its block list, read together (as GetObject does).
    for (int attempt = 0;; ++attempt) {
      auto obj = model::get_object(ctx.store, l.bucket_id, parsed->key);
      if (!obj) return from_error(obj.error(), resource);
      l.obj = std::move(*obj);
      const auto* cur = l.obj ? l.obj->current() : nullptr;
      if (!cur || cur->data != model::version_data::blocks) return l;
      auto ver = model::get_version(ctx.store, cur->id);
      if (ver) {
        l.ver = std::move(*ver);
        return l;
      }
      if (ver.error().code != errc::not_found || attempt == 3) {
        return from_error(ver.error(), resource);
      }
    }
  });
  if (!got) co_return std::move(got).error();
  const model::object_version* v = got->obj ? got->obj->current() : nullptr;
  if (!v) co_return make_error(s3_errc::no_such_key, {}, resource);
  auto cond = check_copy_conditions(headers, "\"" + v->meta.etag + "\"", v->timestamp);
  if (!cond) co_return std::move(cond).error();
  auto opens = check_sse_c_key(v->meta.sse_c_key_md5, *source_key, sse_c_role::copy_source);
  if (!opens) co_return std::move(opens).error();

  copy_source_object out;
  out.bucket_id = std::move(got->bucket_id);
  out.key = parsed->key;
  out.version = *v;
  out.data = std::move(got->ver);
  if (*source_key) out.open_key = (*source_key)->key;
  co_return out;
}

result<std::string> read_source_piece(model::store& s, const hash256& id,
                                      const std::optional<std::string>& open_key, uint64_t from,
                                      uint64_t to) {
  GARAGE_ASSIGN_OR_RETURN(auto stored, s.get_block(id));
  GARAGE_ASSIGN_OR_RETURN(auto plain, open_from_storage(open_key, std::move(stored)));
  if (to > plain.size() || from > to) {
    return error(errc::corrupted, "block " + id.hex() + " is shorter than its version says");
  }
  if (from == 0 && to == plain.size()) return plain;
  return plain.substr(from, to - from);
}

std::string copy_etag(const std::optional<std::string>& dest_key, std::string_view md5_raw) {
  if (dest_key) return random_hex(16);
  return hex_encode(md5_raw);
}

std::string copy_result_xml(std::string_view root, uint64_t last_modified_msec,
                            std::string_view etag) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
  out.append(root).append(" xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
  out.append("<LastModified>").append(http::format_iso8601(last_modified_msec));
  out.append("</LastModified><ETag>").append(xml_escape(etag)).append("</ETag></");
  out.append(root).append(">");
  return out;
}

}  // namespace garage::s3
