#include "api/common/conditional.h"

namespace garage::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view unquote(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

// Whether a comma-separated list of entity tags matches `etag`. Clients also
// send tags without quotes; those compare by their bare value.
bool list_matches(std::string_view list, std::string_view etag, bool weak) {
  std::string_view mine = unquote(trim(etag));
  if (mine.starts_with("W/")) mine = unquote(mine.substr(2));
  while (true) {
    size_t comma = list.find(',');
    std::string_view tag = trim(list.substr(0, comma));
    if (tag == "*") return true;
    bool is_weak = tag.starts_with("W/");
    if (is_weak) tag = tag.substr(2);
    if ((weak || !is_weak) && !tag.empty() && unquote(tag) == mine) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

std::optional<uint64_t> date_seconds(std::optional<std::string_view> h) {
  if (!h) return std::nullopt;
  auto t = http::parse_http_date(trim(*h));
  if (!t) return std::nullopt;
  return *t / 1000;
}

}  // namespace

conditional_headers conditional_headers::from(const http::header_map& headers) {
  return conditional_headers{headers.get("if-match"), headers.get("if-none-match"),
                             headers.get("if-modified-since"), headers.get("if-unmodified-since")};
}

condition_outcome evaluate_conditions(const conditional_headers& h, std::string_view etag,
                                      uint64_t last_modified_msec) {
  uint64_t modified = last_modified_msec / 1000;
  if (h.if_match) {
    if (!list_matches(*h.if_match, etag, false)) return condition_outcome::precondition_failed;
  } else if (auto t = date_seconds(h.if_unmodified_since)) {
    if (modified > *t) return condition_outcome::precondition_failed;
  }
  if (h.if_none_match) {
    if (list_matches(*h.if_none_match, etag, true)) return condition_outcome::not_modified;
  } else if (auto t = date_seconds(h.if_modified_since)) {
    if (modified <= *t) return condition_outcome::not_modified;
  }
  return condition_outcome::proceed;
}

}  // namespace garage::http
