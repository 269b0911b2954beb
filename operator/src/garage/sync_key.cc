#include "garage/sync_key.h"

#include <map>

namespace garage::op::admin {

using nlohmann::json;

namespace {

struct flags {
  bool read = false, write = false, owner = false;
  bool any() const { return read || write || owner; }
  bool operator==(const flags&) const = default;
};

flags flags_of(const json& j) {
  flags f;
  if (!j.is_object()) return f;
  f.read = j.value("read", false);
  f.write = j.value("write", false);
  f.owner = j.value("owner", false);
  return f;
}

json flags_json(const flags& f) {
  return json{{"read", f.read}, {"write", f.write}, {"owner", f.owner}};
}

std::string str_or_empty(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

result<key_state> ensure_key(admin_client& c, const std::optional<std::string>& existing_id,
                             const key_spec& spec) {
  // Resolve every bucket first: a missing one changes nothing.
  std::map<std::string, flags> want;  // bucket id -> flags
  for (const auto& p : spec.permissions) {
    auto info = c.call("GET", "/v2/GetBucketInfo?globalAlias=" + url_encode(p.bucket_alias));
    if (!info) {
      if (info.error().code == errc::not_found)
        return error(errc::not_found, "bucket '" + p.bucket_alias + "' does not exist (key " +
                                          spec.name + "): " + info.error().message);
      return std::move(info).error();
    }
    std::string id = str_or_empty(*info, "id");
    if (id.empty())
      return error(errc::internal,
                   c.where().url + ": GetBucketInfo of " + p.bucket_alias + " answered no id");
    flags& f = want[id];
    f.read |= p.read;
    f.write |= p.write;
    f.owner |= p.owner;
  }

  std::optional<json> info;
  if (existing_id && !existing_id->empty()) {
    auto got =
        c.call("GET", "/v2/GetKeyInfo?id=" + url_encode(*existing_id) + "&showSecretKey=true");
    if (got) {
      info = std::move(*got);
    } else if (got.error().code != errc::not_found) {
      return std::move(got).error();
    }
  }
  key_state st;
  if (!info) {
    GARAGE_ASSIGN_OR_RETURN(json made, c.call("POST", "/v2/CreateKey", json{{"name", spec.name}}));
    info = std::move(made);
    st.created = true;
  }
  st.id = str_or_empty(*info, "accessKeyId");
  st.secret = str_or_empty(*info, "secretAccessKey");
  if (st.id.empty())
    return error(errc::internal, c.where().url + ": the key info has no accessKeyId");
  if (!st.created && str_or_empty(*info, "name") != spec.name) {
    GARAGE_ASSIGN_OR_RETURN(json renamed, c.call("POST", "/v2/UpdateKey?id=" + url_encode(st.id),
                                                 json{{"name", spec.name}}));
    info = std::move(renamed);
  }

  std::map<std::string, flags> have;
  if (auto b = info->find("buckets"); b != info->end() && b->is_array()) {
    for (const auto& item : *b) {
      std::string id = str_or_empty(item, "id");
      if (!id.empty()) have[id] = flags_of(item.value("permissions", json()));
    }
  }
  auto change = [&](const char* endpoint, const std::string& bucket,
                    const flags& f) -> result<void> {
    if (!f.any()) return ok();
    GARAGE_TRY(
        c.call("POST", endpoint,
               json{{"bucketId", bucket}, {"accessKeyId", st.id}, {"permissions", flags_json(f)}}));
    return ok();
  };
  for (const auto& [bucket, w] : want) {
    flags h = have.count(bucket) ? have[bucket] : flags{};
    GARAGE_TRY(change("/v2/AllowBucketKey", bucket,
                      {w.read && !h.read, w.write && !h.write, w.owner && !h.owner}));
    GARAGE_TRY(change("/v2/DenyBucketKey", bucket,
                      {h.read && !w.read, h.write && !w.write, h.owner && !w.owner}));
  }
  for (const auto& [bucket, h] : have) {
    if (want.count(bucket)) continue;
    GARAGE_TRY(change("/v2/DenyBucketKey", bucket, h));
  }
  if (st.secret.empty()) {
    GARAGE_ASSIGN_OR_RETURN(json again, c.call("GET", "/v2/GetKeyInfo?id=" + url_encode(st.id) +
                                                          "&showSecretKey=true"));
    st.secret = str_or_empty(again, "secretAccessKey");
    if (st.secret.empty())
      return error(errc::internal, c.where().url + ": GetKeyInfo?showSecretKey=true of " + st.id +
                                       " answered no secret");
  }
  return st;
}

result<void> delete_key(admin_client& c, const std::string& id) {
  auto r = c.call("POST", "/v2/DeleteKey?id=" + url_encode(id));
  if (!r && r.error().code != errc::not_found) return std::move(r).error();
  return ok();
}

}  // namespace garage::op::admin
