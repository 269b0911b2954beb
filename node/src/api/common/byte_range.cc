#include "api/common/byte_range.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace garage::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Digits only (no sign, no spaces); nullopt on overflow.
std::optional<uint64_t> parse_digits(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

range_request resolve_range(std::optional<std::string_view> header, uint64_t size) {
  auto none = [] { return range_request{}; };
  if (!header) return none();
  std::string_view h = trim(*header);
  constexpr std::string_view k_unit = "bytes=";
  if (h.size() < k_unit.size()) return none();
  for (size_t i = 0; i < k_unit.size(); ++i) {
    char c = h[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != k_unit[i]) return none();
  }
  std::string_view spec = trim(h.substr(k_unit.size()));
  if (spec.find(',') != std::string_view::npos) return none();
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return none();
  std::string_view first_s = trim(spec.substr(0, dash)), last_s = trim(spec.substr(dash + 1));

  auto unsatisfiable = [] { return range_request{range_request::unsatisfiable, {}}; };
  if (first_s.empty()) {
    auto n = parse_digits(last_s);
    if (!n) return none();
    if (*n == 0 || size == 0) return unsatisfiable();
    uint64_t len = std::min(*n, size);
    return range_request{range_request::partial, byte_range{size - len, len}};
  }
  auto first = parse_digits(first_s);
  if (!first) return none();
  uint64_t last = 0;
  if (last_s.empty()) {
    last = UINT64_MAX;
  } else {
    auto l = parse_digits(last_s);
    if (!l || *l < *first) return none();
    last = *l;
  }
  if (*first >= size) return unsatisfiable();
  last = std::min(last, size - 1);
  return range_request{range_request::partial, byte_range{*first, last - *first + 1}};
}

std::string content_range(const byte_range& r, uint64_t size) {
  return "bytes " + std::to_string(r.start) + "-" + std::to_string(r.last()) + "/" +
         std::to_string(size);
}

std::string unsatisfied_content_range(uint64_t size) { return "bytes */" + std::to_string(size); }

}  // namespace garage::http
