#include "api/admin/auth.h"

#include "api/common/http.h"
#include "util/hash.h"

namespace garage::admin {

std::optional<std::string_view> bearer_token(std::string_view v) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  v = trim(v);
  constexpr std::string_view scheme = "bearer";
  if (v.size() <= scheme.size() || !http::iequals(v.substr(0, scheme.size()), scheme))
    return std::nullopt;
  if (v[scheme.size()] != ' ' && v[scheme.size()] != '\t') return std::nullopt;
  auto token = trim(v.substr(scheme.size()));
  if (token.empty()) return std::nullopt;
  return token;
}

bool token_matches(std::string_view given, std::string_view expected) {
  if (expected.empty()) return false;
  // Hashing both sides makes the comparison length-independent; the loop
  // below touches every byte whatever they hold.
  std::string a = sha256(given);
  std::string b = sha256(expected);
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace garage::admin
