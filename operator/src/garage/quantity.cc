#include "garage/quantity.h"

#include <string>

namespace garage::op::admin {

namespace {

using u128 = unsigned __int128;
constexpr u128 kMax = static_cast<u128>(UINT64_MAX);

error bad(std::string_view text, const std::string& why) {
  return error(errc::invalid_argument, "invalid quantity '" + std::string(text) + "': " + why);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

result<uint64_t> parse_quantity(std::string_view text) {
  if (text.empty()) return bad(text, "empty");
  size_t i = 0;
  if (text[0] == '-') return bad(text, "negative sizes are not allowed");
  if (text[0] == '+') i = 1;
  // The number: integer and fraction digits.
  std::string digits;  // significant digits, leading zeros dropped
  int frac_digits = 0;
  bool any_digit = false, dot = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (is_digit(c)) {
      any_digit = true;
      if (dot) frac_digits++;
      if (!(digits.empty() && c == '0'))
        digits.push_back(c);
      else if (dot)
        digits.push_back(c);  // fraction zeros count for the scale
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!any_digit) return bad(text, "expected a number such as 10Gi, 500M or 1.5e9");
  // Drop leading zeros again (fraction zeros after an integer 0: "0.05").
  size_t nz = digits.find_first_not_of('0');
  digits = nz == std::string::npos ? std::string() : digits.substr(nz);
  if (digits.size() > 30) return bad(text, "too many digits");

  // The suffix.
  std::string_view suffix = text.substr(i);
  int exp10 = -frac_digits;
  int bin_shift = 0;
  if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E') && suffix.size() > 1 &&
      (is_digit(suffix[1]) || suffix[1] == '+' || suffix[1] == '-')) {
    size_t j = 1;
    bool neg = false;
    if (suffix[j] == '+' || suffix[j] == '-') neg = suffix[j++] == '-';
    if (j >= suffix.size()) return bad(text, "exponent without digits");
    int e = 0;
    for (; j < suffix.size(); ++j) {
      if (!is_digit(suffix[j]))
        return bad(text, "unexpected '" + std::string(suffix.substr(j)) + "'");
      e = e * 10 + (suffix[j] - '0');
      if (e > 1000) return bad(text, "exponent too large");
    }
    exp10 += neg ? -e : e;
  } else if (suffix.empty()) {
  } else if (suffix.size() == 2 && suffix[1] == 'i') {
    static const std::string_view bin = "KMGTPE";
    auto k = bin.find(suffix[0]);
    if (k == std::string_view::npos)
      return bad(text, "unknown suffix '" + std::string(suffix) + "'");
    bin_shift = 10 * static_cast<int>(k + 1);
  } else if (suffix.size() == 1) {
    switch (suffix[0]) {
      case 'n':
        exp10 -= 9;
        break;
      case 'u':
        exp10 -= 6;
        break;
      case 'm':
        exp10 -= 3;
        break;
      case 'k':
        exp10 += 3;
        break;
      case 'M':
        exp10 += 6;
        break;
      case 'G':
        exp10 += 9;
        break;
      case 'T':
        exp10 += 12;
        break;
      case 'P':
        exp10 += 15;
        break;
      case 'E':
        exp10 += 18;
        break;
      default:
        return bad(text, "unknown suffix '" + std::string(suffix) +
                             "' (binary: Ki Mi Gi Ti Pi Ei; decimal: k M G T P E)");
    }
  } else {
    return bad(text, "unknown suffix '" + std::string(suffix) +
                         "' (binary: Ki Mi Gi Ti Pi Ei; decimal: k M G T P E)");
  }

  u128 n = 0;
  for (char c : digits) n = n * 10 + static_cast<u128>(c - '0');  // < 10^30 < 2^100
  if (n == 0) return uint64_t{0};
  const auto overflow = [&] { return bad(text, "larger than 2^64 - 1 bytes"); };
  if (exp10 >= 0) {
    if (n > kMax) return overflow();
    for (int k = 0; k < exp10; ++k) {
      n *= 10;
      if (n > kMax) return overflow();
    }
    if (bin_shift > 0) {
      if (n > (kMax >> bin_shift)) return overflow();
      n <<= bin_shift;
    }
    return static_cast<uint64_t>(n);
  }
  // A fraction: ceil(n * 2^bin_shift / d) with d = 10^-exp10 <= 10^38 < 2^127.
  const int s = -exp10;
  if (s > 38) return bad(text, "a fraction finer than 10^-38");
  u128 d = 1;
  for (int k = 0; k < s; ++k) d *= 10;
  u128 q = n / d, r = n % d;
  if (q > (kMax >> bin_shift)) return overflow();
  q <<= bin_shift;
  // floor(r * 2^bin_shift / d) by long division, one bit at a time (r < d).
  u128 extra = 0;
  for (int k = 0; k < bin_shift; ++k) {
    r <<= 1;
    extra <<= 1;
    if (r >= d) {
      r -= d;
      extra |= 1;
    }
  }
  q += extra;
  if (r != 0) q += 1;
  if (q > kMax) return overflow();
  return static_cast<uint64_t>(q);
}

}  // namespace garage::op::admin
