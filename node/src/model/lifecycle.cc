#include "model/lifecycle.h"

#include <nlohmann/json.hpp>

namespace garage::model {

namespace {
using json = nlohmann::json;

template <class T>
std::optional<T> get_opt(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

template <class T>
void put_opt(json& j, const char* name, const std::optional<T>& v) {
  if (v) j[name] = *v;
}

// `days` after `start`, rounded up to the next midnight UTC.
uint64_t due_after_days(uint64_t start_msec, uint32_t days) {
  uint64_t t = start_msec + uint64_t(days) * kDayMsec;
  return (t + kDayMsec - 1) / kDayMsec * kDayMsec;
}
}  // namespace

std::string lifecycle_to_json(const lifecycle_config& c) {
  json rules = json::array();
  for (const auto& r : c.rules) {
    json j = json::object();
    if (!r.id.empty()) j["id"] = r.id;
    j["enabled"] = r.enabled;
    json f = json::object();
    if (!r.filter.prefix.empty()) f["prefix"] = r.filter.prefix;
    put_opt(f, "size_greater_than", r.filter.size_greater_than);
    put_opt(f, "size_less_than", r.filter.size_less_than);
    j["filter"] = std::move(f);
    put_opt(j, "expiration_days", r.expiration_days);
    put_opt(j, "expiration_date_msec", r.expiration_date_msec);
    put_opt(j, "abort_incomplete_upload_days", r.abort_incomplete_upload_days);
    rules.push_back(std::move(j));
  }
  return json{{"rules", std::move(rules)}}.dump();
}

result<lifecycle_config> lifecycle_from_json(std::string_view text) {
  try {
    auto j = json::parse(text);
    lifecycle_config c;
    for (const auto& jr : j.at("rules")) {
      lifecycle_rule r;
      r.id = jr.value("id", "");
      r.enabled = jr.at("enabled").get<bool>();
      const auto& f = jr.at("filter");
      r.filter.prefix = f.value("prefix", "");
      r.filter.size_greater_than = get_opt<uint64_t>(f, "size_greater_than");
      r.filter.size_less_than = get_opt<uint64_t>(f, "size_less_than");
      r.expiration_days = get_opt<uint32_t>(jr, "expiration_days");
      r.expiration_date_msec = get_opt<uint64_t>(jr, "expiration_date_msec");
      r.abort_incomplete_upload_days = get_opt<uint32_t>(jr, "abort_incomplete_upload_days");
      c.rules.push_back(std::move(r));
    }
    return c;
  } catch (const json::exception& e) {
    return error(errc::corrupted, std::string("stored lifecycle configuration: ") + e.what());
  }
}

bool filter_matches(const lifecycle_filter& f, std::string_view key, uint64_t size) {
  if (!key.starts_with(f.prefix)) return false;
  if (f.size_greater_than && !(size > *f.size_greater_than)) return false;
  if (f.size_less_than && !(size < *f.size_less_than)) return false;
  return true;
}

bool object_expired(const lifecycle_rule& r, uint64_t written_msec, uint64_t now_msec) {
  if (!r.enabled) return false;
  if (r.expiration_date_msec) return now_msec >= *r.expiration_date_msec;
  if (r.expiration_days) return now_msec >= due_after_days(written_msec, *r.expiration_days);
  return false;
}

bool upload_abort_due(const lifecycle_rule& r, uint64_t initiated_msec, uint64_t now_msec) {
  if (!r.enabled || !r.abort_incomplete_upload_days) return false;
  return now_msec >= due_after_days(initiated_msec, *r.abort_incomplete_upload_days);
}

}  // namespace garage::model
