// PutObjectTagging, GetObjectTagging, DeleteObjectTagging and
// GetObjectAttributes: small reads and writes of one object's metadata.
// clang-format off
#include <utility>
// clang-format on
#include <set>

#include "api/s3/body_reader.h"
#include "api/s3/checksums.h"
#include "api/s3/object_tagging.h"
#include "api/s3/request_context.h"
#include "api/s3/s3_xml.h"
#include "model/object_ops.h"
#include "util/encoding.h"

namespace garage::s3 {

namespace {

constexpr size_t kMaxTaggingBody = 64 << 10;

// The current version of the request's object; NoSuchKey when there is none.
http::task<s3_result<model::object_version>> current_version(request_context& ctx) {
  auto obj = co_await blocking(
      ctx, [&] { return model::get_object(ctx.store, ctx.bucket_id, ctx.req.key); });
  if (!obj) co_return from_error(obj.error(), ctx.resource());
  const model::object_version* v = *obj ? (*obj)->current() : nullptr;
  if (!v) co_return make_error(s3_errc::no_such_key, {}, ctx.resource());
  co_return *v;
}

s3_task<void> set_tags(request_context& ctx, model::header_list tags, unsigned status) {
  auto r = co_await blocking(ctx, [&] {
    return model::set_object_tags(ctx.store, ctx.bucket_id, ctx.req.key, std::move(tags));
  });
  if (!r) {
    if (r.error().code == errc::not_found) {
      co_return make_error(s3_errc::no_such_key, {}, ctx.resource());
    }
    co_return from_error(r.error(), ctx.resource());
  }
  co_return co_await respond_empty(ctx, status);
}

void checksum_element(std::string& out, const model::object_checksum& c) {
  std::string name = "Checksum" + std::string(checksum_name(c.algorithm));
  out += "<" + name + ">" + base64_encode(c.value) + "</" + name + ">";
}

}  // namespace

s3_task<void> handle_put_object_tagging(request_context& ctx) {
  auto reader = body_reader::make(ctx);
  if (!reader) co_return std::move(reader).error();
  auto body = co_await (*reader)->read_all(kMaxTaggingBody);
  if (!body) co_return std::move(body).error();
  auto tags = parse_tagging_xml(*body);
  if (!tags) co_return std::move(tags).error();
  co_return co_await set_tags(ctx, std::move(*tags), 200);
}

s3_task<void> handle_delete_object_tagging(request_context& ctx) {
  co_return co_await set_tags(ctx, {}, 204);
}

s3_task<void> handle_get_object_tagging(request_context& ctx) {
  auto v = co_await current_version(ctx);
  if (!v) co_return std::move(v).error();
  co_return co_await respond_xml(ctx, tagging_xml(v->meta.tags));
}

s3_task<void> handle_get_object_attributes(request_context& ctx) {
  // Which attributes: a comma-separated list (the header may be repeated).
  std::set<std::string> wanted;
  for (const auto& [name, value] : ctx.ex.head().headers.items()) {
    if (!http::iequals(name, "x-amz-object-attributes")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (item.empty()) continue;
      if (item != "ETag" && item != "Checksum" && item != "ObjectParts" && item != "StorageClass" &&
          item != "ObjectSize") {
        co_return make_error(s3_errc::invalid_argument, "Invalid attribute name specified.",
                             ctx.resource());
      }
      wanted.insert(std::string(item));
    }
  }
  if (wanted.empty()) {
    co_return make_error(s3_errc::invalid_argument,
                         "The x-amz-object-attributes header specifying the attributes to be "
                         "retrieved is either missing or empty",
                         ctx.resource());
  }
  auto v = co_await current_version(ctx);
  if (!v) co_return std::move(v).error();
  // Parts of a multipart object: kept in its version under attempt 0.
  std::optional<model::version> ver;
  if (wanted.count("ObjectParts") && v->data == model::version_data::blocks) {
    auto got = co_await blocking(ctx, [&] { return model::get_version(ctx.store, v->id); });
    if (!got) co_return from_error(got.error(), ctx.resource());
    ver = std::move(*got);
  }

  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<GetObjectAttributesResponse xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  if (wanted.count("ETag")) out += "<ETag>" + xml_escape(v->meta.etag) + "</ETag>";
  if (wanted.count("Checksum") && v->meta.checksum && !v->meta.checksum->value.empty()) {
    out += "<Checksum>";
    checksum_element(out, *v->meta.checksum);
    out += std::string("<ChecksumType>") +
           (v->meta.checksum->composite ? "COMPOSITE" : "FULL_OBJECT") + "</ChecksumType>";
    out += "</Checksum>";
  }
  if (ver && !ver->parts.empty()) {
    uint32_t marker = 0, max_parts = 1000;
    if (auto m = ctx.ex.head().headers.get("x-amz-part-number-marker")) {
      marker = static_cast<uint32_t>(std::strtoul(std::string(*m).c_str(), nullptr, 10));
    }
    if (auto m = ctx.ex.head().headers.get("x-amz-max-parts")) {
      max_parts = std::min<uint32_t>(
          1000, static_cast<uint32_t>(std::strtoul(std::string(*m).c_str(), nullptr, 10)));
    }
    std::string parts;
    uint32_t listed = 0, last = 0;
    bool truncated = false;
    for (const auto& [k, p] : ver->parts) {
      if (k.part_number <= marker) continue;
      if (listed == max_parts) {
        truncated = true;
        break;
      }
      parts += "<Part><PartNumber>" + std::to_string(k.part_number) + "</PartNumber><Size>" +
               std::to_string(p.size) + "</Size>";
      if (v->meta.checksum && p.checksum.size() == checksum_size(v->meta.checksum->algorithm)) {
        model::object_checksum pc = *v->meta.checksum;
        pc.value = p.checksum;
        checksum_element(parts, pc);
      }
      parts += "</Part>";
      ++listed;
      last = k.part_number;
    }
    out += "<ObjectParts><PartsCount>" + std::to_string(ver->parts.size()) +
           "</PartsCount><PartNumberMarker>" + std::to_string(marker) +
           "</PartNumberMarker><NextPartNumberMarker>" + std::to_string(last) +
           "</NextPartNumberMarker><MaxParts>" + std::to_string(max_parts) +
           "</MaxParts><IsTruncated>" + (truncated ? "true" : "false") + "</IsTruncated>" + parts +
           "</ObjectParts>";
  }
  if (wanted.count("StorageClass")) out += "<StorageClass>STANDARD</StorageClass>";
  if (wanted.count("ObjectSize")) {
    out += "<ObjectSize>" + std::to_string(v->meta.size) + "</ObjectSize>";
  }
  out += "</GetObjectAttributesResponse>";
  auto h = ctx.response(200);
  h.headers.set("content-type", "application/xml");
  h.headers.set("last-modified", http::format_http_date(v->timestamp));
  auto r = co_await ctx.ex.respond(std::move(h), std::move(out));
  if (!r) co_return make_error(s3_errc::internal_error, r.error().message);
  co_return s3_result<void>();
}

}  // namespace garage::s3
