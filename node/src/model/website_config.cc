#include "model/website_config.h"

#include <nlohmann/json.hpp>

namespace garage::model {

namespace {
using json = nlohmann::json;

template <class T>
void put_opt(json& j, const char* name, const std::optional<T>& v) {
  if (v) j[name] = *v;
}

template <class T>
std::optional<T> get_opt(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}
}  // namespace

std::string website_to_json(const website_config& c) {
  json j = json::object();
  if (c.redirect_all) {
    j["redirect_all"] = {{"host_name", c.redirect_all->host_name},
                         {"protocol", c.redirect_all->protocol}};
  } else {
    j["index_document"] = c.index_document;
    put_opt(j, "error_document", c.error_document);
  }
  if (!c.routing_rules.empty()) {
    json rules = json::array();
    for (const auto& r : c.routing_rules) {
      json jr = json::object();
      put_opt(jr, "key_prefix_equals", r.key_prefix_equals);
      put_opt(jr, "http_error_code_returned_equals", r.http_error_code_returned_equals);
      if (!r.host_name.empty()) jr["host_name"] = r.host_name;
      if (!r.protocol.empty()) jr["protocol"] = r.protocol;
      put_opt(jr, "http_redirect_code", r.http_redirect_code);
      put_opt(jr, "replace_key_prefix_with", r.replace_key_prefix_with);
      put_opt(jr, "replace_key_with", r.replace_key_with);
      rules.push_back(std::move(jr));
    }
    j["routing_rules"] = std::move(rules);
  }
  return j.dump();
}

result<website_config> website_from_json(std::string_view text) {
  try {
    auto j = json::parse(text);
    website_config c;
    if (auto it = j.find("redirect_all"); it != j.end()) {
      c.redirect_all = website_redirect_all{it->value("host_name", ""), it->value("protocol", "")};
    } else {
      c.index_document = j.at("index_document").get<std::string>();
      c.error_document = get_opt<std::string>(j, "error_document");
    }
    if (auto it = j.find("routing_rules"); it != j.end()) {
      for (const auto& jr : *it) {
        website_routing_rule r;
        r.key_prefix_equals = get_opt<std::string>(jr, "key_prefix_equals");
        r.http_error_code_returned_equals =
            get_opt<unsigned>(jr, "http_error_code_returned_equals");
        r.host_name = jr.value("host_name", "");
        r.protocol = jr.value("protocol", "");
        r.http_redirect_code = get_opt<unsigned>(jr, "http_redirect_code");
        r.replace_key_prefix_with = get_opt<std::string>(jr, "replace_key_prefix_with");
        r.replace_key_with = get_opt<std::string>(jr, "replace_key_with");
        c.routing_rules.push_back(std::move(r));
      }
    }
    return c;
  } catch (const json::exception& e) {
    return error(errc::corrupted, std::string("stored website configuration: ") + e.what());
  }
}

const website_routing_rule* find_routing_rule(const website_config& c, std::string_view key,
                                              std::optional<unsigned> error_code) {
  for (const auto& r : c.routing_rules) {
    if (r.key_prefix_equals && !key.starts_with(*r.key_prefix_equals)) continue;
    if (r.http_error_code_returned_equals &&
        (!error_code || *error_code != *r.http_error_code_returned_equals))
      continue;
    return &r;
  }
  return nullptr;
}

std::string routing_redirect_location(const website_routing_rule& rule, std::string_view key,
                                      std::string_view request_protocol) {
  std::string new_key(key);
  if (rule.replace_key_with) {
    new_key = *rule.replace_key_with;
  } else if (rule.replace_key_prefix_with) {
    size_t n = rule.key_prefix_equals ? rule.key_prefix_equals->size() : 0;
    new_key = *rule.replace_key_prefix_with + std::string(key.substr(std::min(n, key.size())));
  }
  if (rule.host_name.empty()) return "/" + new_key;
  std::string proto = rule.protocol.empty() ? std::string(request_protocol) : rule.protocol;
  return proto + "://" + rule.host_name + "/" + new_key;
}

}  // namespace garage::model
