#include "api/s3/object_tagging.h"

#include <pugixml.hpp>
#include <set>

#include "api/s3/s3_xml.h"
#include "util/encoding.h"

namespace garage::s3 {

namespace {

// Unicode characters of a UTF-8 string (continuation bytes not counted).
size_t utf8_chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

s3_error invalid_tag(std::string message) {
  return make_error(s3_errc::invalid_tag, std::move(message));
}

std::string_view local_name(const pugi::xml_node& n) {
  std::string_view name = n.name();
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

std::string_view unquote(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

s3_result<void> validate_tags(const model::header_list& tags) {
  if (tags.size() > kMaxObjectTags) return invalid_tag("Object tags cannot be greater than 10");
  std::set<std::string_view> keys;
  for (const auto& [k, v] : tags) {
    if (k.empty()) return invalid_tag("The TagKey you have provided is invalid");
    if (utf8_chars(k) > kMaxTagKeyChars) {
      return invalid_tag("The TagKey you have provided is too long, max 128");
    }
    if (utf8_chars(v) > kMaxTagValueChars) {
      return invalid_tag("The TagValue you have provided is too long, max 256");
    }
    if (k.starts_with("aws:")) {
      return invalid_tag("Your TagKey cannot be prefixed with aws:");
    }
    if (!keys.insert(k).second)
      return invalid_tag("Cannot provide multiple Tags with the same key");
  }
  return {};
}

s3_result<model::header_list> parse_tagging_header(const http::header_map& headers) {
  model::header_list tags;
  auto h = headers.get("x-amz-tagging");
  if (!h || h->empty()) return tags;
  std::string_view rest = *h;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto k = uri_decode(pair.substr(0, eq), true);
    auto v =
        uri_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!k || !v) {
      return make_error(s3_errc::invalid_argument,
                        "The header 'x-amz-tagging' shall be encoded "
                        "as UTF-8 then URLEncoded URL query parameters "
                        "without tag name duplicates.");
    }
    tags.emplace_back(std::move(*k), std::move(*v));
  }
  if (auto ok = validate_tags(tags); !ok) return std::move(ok).error();
  return tags;
}

s3_result<model::header_list> parse_tagging_xml(std::string_view body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return make_error(s3_errc::malformed_xml);
  auto root = doc.document_element();
  if (local_name(root) != "Tagging") return make_error(s3_errc::malformed_xml);
  model::header_list tags;
  bool has_set = false;
  for (auto set : root.children()) {
    if (set.type() != pugi::node_element) continue;
    if (local_name(set) != "TagSet" || has_set) return make_error(s3_errc::malformed_xml);
    has_set = true;
    for (auto tag : set.children()) {
      if (tag.type() != pugi::node_element) continue;
      if (local_name(tag) != "Tag") return make_error(s3_errc::malformed_xml);
      std::optional<std::string> key, value;
      for (auto f : tag.children()) {
        if (f.type() != pugi::node_element) continue;
        auto name = local_name(f);
        if (name == "Key" && !key) {
          key = f.text().get();
        } else if (name == "Value" && !value) {
          value = f.text().get();
        } else {
          return make_error(s3_errc::malformed_xml);
        }
      }
      if (!key || !value) return make_error(s3_errc::malformed_xml);
      tags.emplace_back(std::move(*key), std::move(*value));
    }
  }
  if (!has_set) return make_error(s3_errc::malformed_xml);
  if (auto ok = validate_tags(tags); !ok) return std::move(ok).error();
  return tags;
}

std::string tagging_xml(const model::header_list& tags) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>";
  for (const auto& [k, v] : tags) {
    out += "<Tag><Key>" + xml_escape(k) + "</Key><Value>" + xml_escape(v) + "</Value></Tag>";
  }
  out += "</TagSet></Tagging>";
  return out;
}

s3_result<model::write_precondition> parse_write_precondition(const http::header_map& headers) {
  model::write_precondition pre;
  if (auto v = headers.get("if-none-match")) {
    if (unquote(*v) != "*") {
      return make_error(s3_errc::not_implemented,
                        "A header you provided implies functionality that is not implemented: "
                        "If-None-Match on a write accepts only '*'");
    }
    pre.if_none_match_any = true;
  }
  if (auto v = headers.get("if-match")) pre.if_match = std::string(unquote(*v));
  return pre;
}

std::optional<s3_error> precondition_error(const garage::error& e, const std::string& resource) {
  if (e.code == errc::already_exists) {
    return make_error(s3_errc::precondition_failed, {}, resource);
  }
  if (e.code == errc::not_found && e.message == model::kIfMatchNoObject) {
    return make_error(s3_errc::no_such_key, {}, resource);
  }
  return std::nullopt;
}

void set_tagging_count_header(http::header_map& h, const model::object_meta& meta) {
  if (!meta.tags.empty()) h.set("x-amz-tagging-count", std::to_string(meta.tags.size()));
}

}  // namespace garage::s3
