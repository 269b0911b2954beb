#include "model/cors.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace garage::model {

namespace {

using json = nlohmann::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

std::vector<std::string> strings(const json& j, const char* name) {
  std::vector<std::string> out;
  auto it = j.find(name);
  if (it == j.end()) return out;
  for (const auto& s : *it) out.push_back(s.get<std::string>());
  return out;
}

}  // namespace

std::string cors_to_json(const cors_config& c) {
  json rules = json::array();
  for (const auto& r : c.rules) {
    json j;
    if (!r.id.empty()) j["id"] = r.id;
    j["allowed_origins"] = r.allowed_origins;
    j["allowed_methods"] = r.allowed_methods;
    if (!r.allowed_headers.empty()) j["allowed_headers"] = r.allowed_headers;
    if (!r.expose_headers.empty()) j["expose_headers"] = r.expose_headers;
    if (r.max_age_seconds) j["max_age_seconds"] = *r.max_age_seconds;
    rules.push_back(std::move(j));
  }
  return json{{"rules", std::move(rules)}}.dump();
}

result<cors_config> cors_from_json(std::string_view text) {
  try {
    auto j = json::parse(text);
    cors_config c;
    for (const auto& r : j.at("rules")) {
      cors_rule rule;
      rule.id = r.value("id", "");
      rule.allowed_origins = strings(r, "allowed_origins");
      rule.allowed_methods = strings(r, "allowed_methods");
      rule.allowed_headers = strings(r, "allowed_headers");
      rule.expose_headers = strings(r, "expose_headers");
      if (r.contains("max_age_seconds"))
        rule.max_age_seconds = r["max_age_seconds"].get<uint64_t>();
      c.rules.push_back(std::move(rule));
    }
    return c;
  } catch (const json::exception& e) {
    return error(errc::corrupted, std::string("stored CORS configuration: ") + e.what());
  }
}

bool wildcard_match(std::string_view pattern, std::string_view s) {
  size_t star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == s;
  std::string_view head = pattern.substr(0, star);
  std::string_view tail = pattern.substr(star + 1);
  return s.size() >= head.size() + tail.size() && s.starts_with(head) && s.ends_with(tail);
}

std::vector<std::string> split_header_list(std::string_view value) {
  std::vector<std::string> out;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) out.push_back(lower(item));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

const cors_rule* find_cors_rule(const cors_config& c, std::string_view origin,
                                std::string_view method,
                                const std::vector<std::string>& request_headers) {
  for (const auto& r : c.rules) {
    bool origin_ok = std::any_of(r.allowed_origins.begin(), r.allowed_origins.end(),
                                 [&](const std::string& p) { return wildcard_match(p, origin); });
    if (!origin_ok) continue;
    if (std::find(r.allowed_methods.begin(), r.allowed_methods.end(), method) ==
        r.allowed_methods.end())
      continue;
    bool headers_ok =
        std::all_of(request_headers.begin(), request_headers.end(), [&](const std::string& h) {
          return std::any_of(r.allowed_headers.begin(), r.allowed_headers.end(),
                             [&](const std::string& p) { return wildcard_match(lower(p), h); });
        });
    if (headers_ok) return &r;
  }
  return nullptr;
}

std::vector<std::pair<std::string, std::string>> cors_response_headers(
    const cors_rule& rule, std::string_view origin, bool preflight,
    const std::vector<std::string>& request_headers) {
  std::vector<std::pair<std::string, std::string>> h;
  bool any_origin = std::find(rule.allowed_origins.begin(), rule.allowed_origins.end(), "*") !=
                    rule.allowed_origins.end();
  h.emplace_back("Access-Control-Allow-Origin", any_origin ? "*" : std::string(origin));
  if (!any_origin) h.emplace_back("Access-Control-Allow-Credentials", "true");
  if (preflight) {
    h.emplace_back("Access-Control-Allow-Methods", join(rule.allowed_methods));
    if (!request_headers.empty())
      h.emplace_back("Access-Control-Allow-Headers", join(request_headers));
    if (rule.max_age_seconds)
      h.emplace_back("Access-Control-Max-Age", std::to_string(*rule.max_age_seconds));
  } else if (!rule.expose_headers.empty()) {
    h.emplace_back("Access-Control-Expose-Headers", join(rule.expose_headers));
  }
  h.emplace_back("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
  return h;
}

}  // namespace garage::model
