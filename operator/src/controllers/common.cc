#include "controllers/common.h"

#include <chrono>
#include <ctime>

#include "util/encoding.h"

namespace garage::op {

garage::error from_api(const k8s::api_error& e, std::string_view what) {
  errc c = errc::internal;
  if (e.code == 0)
    c = e.reason == k8s::transport_reason::timeout ? errc::timeout : errc::unavailable;
  else if (e.code == 404 || e.code == 410)
    c = errc::not_found;
  else if (e.code == 409)
    c = e.is_already_exists() ? errc::already_exists : errc::conflict;
  else if (e.code == 401)
    c = errc::unauthenticated;
  else if (e.code == 403)
    c = errc::permission_denied;
  else if (e.code == 400 || e.code == 422)
    c = errc::invalid_argument;
  else if (e.code == 429 || e.code >= 500)
    c = errc::unavailable;
  std::string msg(what);
  msg += ": ";
  msg += e.message.empty() ? e.reason : e.message;
  return garage::error(c, std::move(msg));
}

std::string now_rfc3339() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

conditions::conditions(const json& old_status, int64_t generation)
    : old_(json::array()), now_(json::array()), generation_(generation) {
  if (old_status.is_object() && old_status.contains("conditions") &&
      old_status["conditions"].is_array())
    old_ = old_status["conditions"];
}

static const json* find_in(const json& arr, const std::string& type) {
  for (const auto& c : arr)
    if (c.is_object() && c.value("type", "") == type) return &c;
  return nullptr;
}

void conditions::set(const std::string& type, const std::string& status, const std::string& reason,
                     const std::string& message) {
  std::string since = now_rfc3339();
  if (const json* o = find_in(old_, type); o && o->value("status", "") == status)
    since = o->value("lastTransitionTime", since);
  json c = {{"type", type},
            {"status", status},
            {"reason", reason.empty() ? std::string("Unknown") : reason},
            {"message", message},
            {"lastTransitionTime", since},
            {"observedGeneration", generation_}};
  for (auto& e : now_)
    if (e.value("type", "") == type) {
      e = std::move(c);
      return;
    }
  now_.push_back(std::move(c));
}

const json* conditions::find(const std::string& type) const {
  if (const json* c = find_in(now_, type)) return c;
  return find_in(old_, type);
}

bool conditions::changed(const std::string& type) const {
  const json* n = find_in(now_, type);
  if (!n) return false;
  const json* o = find_in(old_, type);
  return !o || o->value("status", "") != n->value("status", "") ||
         o->value("reason", "") != n->value("reason", "");
}

json conditions::to_json() const {
  json out = now_;
  for (const auto& o : old_)  // kept: conditions not set this round
    if (o.is_object() && !find_in(now_, o.value("type", ""))) out.push_back(o);
  return out;
}

bool has_finalizer(const json& obj) {
  const json& m = obj.contains("metadata") ? obj["metadata"] : json::object();
  if (!m.contains("finalizers")) return false;
  for (const auto& f : m["finalizers"])
    if (f.is_string() && f.get<std::string>() == finalizer) return true;
  return false;
}

static result<void> set_finalizers(k8s::client& c, const k8s::resource_kind& kind, const json& obj,
                                   bool present) {
  const json& m = obj["metadata"];
  json list = json::array();
  if (m.contains("finalizers"))
    for (const auto& f : m["finalizers"])
      if (!(f.is_string() && f.get<std::string>() == finalizer)) list.push_back(f);
  if (present) list.push_back(finalizer);
  json patch = {
      {"metadata", {{"finalizers", list}, {"resourceVersion", m.value("resourceVersion", "")}}}};
  auto r = c.patch(kind, m.value("namespace", ""), m.value("name", ""), k8s::patch_type::merge,
                   patch, {}, field_manager);
  if (!r && !(r.error().is_not_found() && !present))
    return from_api(r.error(), "finalizer of " + m.value("name", ""));
  return ok();
}

result<void> add_finalizer(k8s::client& c, const k8s::resource_kind& kind, const json& obj) {
  return set_finalizers(c, kind, obj, true);
}

result<void> remove_finalizer(k8s::client& c, const k8s::resource_kind& kind, const json& obj) {
  return set_finalizers(c, kind, obj, false);
}

json owner_reference(const json& owner) {
  return {{"apiVersion", owner.value("apiVersion", "")},
          {"kind", owner.value("kind", "")},
          {"name", owner["metadata"].value("name", "")},
          {"uid", owner["metadata"].value("uid", "")},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

result<void> write_status(k8s::client& c, const k8s::resource_kind& kind, const json& obj,
                          const json& status) {
  const json& m = obj["metadata"];
  auto r = c.patch_status(kind, m.value("namespace", ""), m.value("name", ""),
                          k8s::patch_type::merge, json{{"status", status}});
  if (!r) return from_api(r.error(), "status of " + m.value("name", ""));
  return ok();
}

result<json> apply(k8s::client& c, const k8s::resource_kind& kind, const json& obj) {
  const json& m = obj["metadata"];
  auto r =
      c.apply(kind, m.value("namespace", ""), obj, {.field_manager = field_manager, .force = true});
  if (!r)
    return from_api(r.error(), "apply " + obj.value("kind", "") + " " + m.value("namespace", "") +
                                   "/" + m.value("name", ""));
  return std::move(r).value();
}

result<std::string> secret_value(k8s::client& c, const std::string& ns, const std::string& name,
                                 const std::string& key) {
  auto s = c.get(k8s::kinds::secret(), ns, name);
  if (!s) return from_api(s.error(), "Secret " + ns + "/" + name);
  const json& d = (*s).contains("data") ? (*s)["data"] : json::object();
  if (!d.contains(key) || !d[key].is_string())
    return garage::error(errc::not_found, "Secret " + ns + "/" + name + " has no key " + key);
  auto v = base64_decode(d[key].get<std::string>());
  if (!v)
    return garage::error(errc::invalid_argument,
                         "Secret " + ns + "/" + name + " key " + key + " is not valid base64");
  return *v;
}

}  // namespace garage::op
