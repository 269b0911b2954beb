#include "api/s3/post_policy.h"

#include <ctime>
#include <nlohmann/json.hpp>

namespace garage::s3 {

namespace {

using json = nlohmann::json;

s3_error invalid_policy(std::string what) {
  return make_error(s3_errc::invalid_argument, "Invalid Policy: " + what);
}

s3_error denied(std::string what) {
  return make_error(s3_errc::access_denied, "Invalid according to Policy: " + what);
}

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::optional<uint64_t> as_size(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0)
    return static_cast<uint64_t>(v.get<int64_t>());
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 19) return std::nullopt;
    uint64_t n = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    return n;
  }
  return std::nullopt;
}

// "$key" → "key".
std::optional<std::string> field_ref(const json& v) {
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() < 2 || s[0] != '$') return std::nullopt;
  return lower(s.substr(1));
}

std::string describe(const post_condition& c) {
  return std::string("[\"") + (c.op == post_condition::eq ? "eq" : "starts-with") + "\", \"$" +
         c.field + "\", \"" + c.value + "\"]";
}

bool holds(const post_condition& c, std::string_view value) {
  if (c.op == post_condition::eq) return value == c.value;
  if (c.field == "content-type") {
    // Each of a comma-separated list of types must match.
    while (true) {
      size_t comma = value.find(',');
      std::string_view one = value.substr(0, comma);
      while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
      if (!one.starts_with(c.value)) return false;
      if (comma == std::string_view::npos) return true;
      value.remove_prefix(comma + 1);
    }
  }
  return value.starts_with(c.value);
}

}  // namespace

std::optional<uint64_t> parse_policy_expiration(std::string_view s) {
  if (s.size() < 20 || s.size() > 40 || s.back() != 'Z') return std::nullopt;
  std::string str(s.substr(0, 19));
  struct tm tm {};
  const char* e = strptime(str.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!e || *e) return std::nullopt;
  std::string_view frac = s.substr(19, s.size() - 20);
  uint64_t msec = 0;
  if (!frac.empty()) {
    if (frac[0] != '.' || frac.size() < 2) return std::nullopt;
    uint64_t scale = 100;
    for (char c : frac.substr(1)) {
      if (c < '0' || c > '9') return std::nullopt;
      msec += static_cast<uint64_t>(c - '0') * scale;
      scale /= 10;
    }
  }
  time_t t = timegm(&tm);
  if (t < 0) return std::nullopt;
  return static_cast<uint64_t>(t) * 1000 + msec;
}

s3_result<post_policy> parse_post_policy(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return invalid_policy("the policy is not a JSON object");
  post_policy p;
  auto exp = doc.find("expiration");
  if (exp == doc.end() || !exp->is_string()) return invalid_policy("the policy has no expiration");
  auto t = parse_policy_expiration(exp->get_ref<const std::string&>());
  if (!t) return invalid_policy("the expiration is not an ISO 8601 UTC time");
  p.expiration_msec = *t;
  auto conds = doc.find("conditions");
  if (conds == doc.end() || !conds->is_array())
    return invalid_policy("the policy has no conditions list");
  for (const auto& c : *conds) {
    if (c.is_object()) {
      // {"field": "value"}: an exact match.
      for (const auto& [name, value] : c.items()) {
        if (!value.is_string()) return invalid_policy("condition values must be strings");
        p.conditions.push_back({post_condition::eq, lower(name), value.get<std::string>()});
      }
      continue;
    }
    if (!c.is_array() || c.size() != 3 || !c[0].is_string())
      return invalid_policy("a condition is neither an object nor a three-element list");
    std::string op = lower(c[0].get<std::string>());
    if (op == "content-length-range") {
      auto lo = as_size(c[1]), hi = as_size(c[2]);
      if (!lo || !hi || *lo > *hi) return invalid_policy("bad content-length-range");
      p.length_range = {*lo, *hi};
      continue;
    }
    auto field = field_ref(c[1]);
    if (!field || !c[2].is_string())
      return invalid_policy("a condition must name a field ($name) and a string value");
    if (op == "eq") {
      p.conditions.push_back({post_condition::eq, *field, c[2].get<std::string>()});
    } else if (op == "starts-with") {
      p.conditions.push_back({post_condition::starts_with, *field, c[2].get<std::string>()});
    } else {
      return invalid_policy("unknown condition " + op);
    }
  }
  return p;
}

s3_result<void> check_post_policy(const post_policy& p, const form_fields& fields,
                                  uint64_t now_msec) {
  if (now_msec >= p.expiration_msec) return denied("Policy expired.");
  for (const auto& c : p.conditions) {
    auto it = fields.find(c.field);
    std::string_view value = it == fields.end() ? std::string_view() : it->second;
    if ((it == fields.end() && !(c.op == post_condition::starts_with && c.value.empty())) ||
        !holds(c, value)) {
      return denied("Policy Condition failed: " + describe(c));
    }
  }
  for (const auto& [name, value] : fields) {
    if (name == "policy" || name == "x-amz-signature" || name == "file" || name == "bucket" ||
        name.starts_with("x-ignore-"))
      continue;
    bool covered = false;
    for (const auto& c : p.conditions) covered |= c.field == name;
    if (!covered) return denied("Extra input fields: " + name);
  }
  return {};
}

}  // namespace garage::s3
