#include "garage/sync_bucket.h"

namespace garage::op::admin {

using nlohmann::json;

namespace {

std::optional<uint64_t> opt_u64(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<uint64_t>();
}

std::optional<std::string> opt_str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bucket_state state_of(const json& info) {
  bucket_state s;
  s.id = opt_str(info, "id").value_or("");
  s.objects = opt_u64(info, "objects").value_or(0);
  s.bytes = opt_u64(info, "bytes").value_or(0);
  s.unfinished_uploads = opt_u64(info, "unfinishedUploads").value_or(0);
  return s;
}

// GetBucketInfo?globalAlias=; nullopt when there is no such bucket.
result<std::optional<json>> find_bucket(admin_client& c, const std::string& alias) {
  auto info = c.call("GET", "/v2/GetBucketInfo?globalAlias=" + url_encode(alias));
  if (!info) {
    if (info.error().code == errc::not_found) return std::optional<json>();
    return std::move(info).error();
  }
  return std::optional<json>(std::move(*info));
}

}  // namespace

result<bucket_state> ensure_bucket(admin_client& c, const bucket_spec& spec) {
  if (spec.global_alias.empty())
    return error(errc::invalid_argument, "a bucket needs a global alias (its name)");
  if (spec.website && spec.index_document.empty())
    return error(errc::invalid_argument,
                 "bucket " + spec.global_alias + ": website access needs an index document");
  GARAGE_ASSIGN_OR_RETURN(std::optional<json> found, find_bucket(c, spec.global_alias));
  bool created = false;
  if (!found) {
    auto made = c.call("POST", "/v2/CreateBucket", json{{"globalAlias", spec.global_alias}});
    if (!made) {
      // Created by someone else between the read and the create: use it.
      if (made.error().code != errc::conflict) return std::move(made).error();
      GARAGE_ASSIGN_OR_RETURN(found, find_bucket(c, spec.global_alias));
      if (!found) return std::move(made).error();
    } else {
      found = std::move(*made);
      created = true;
    }
  }
  json info = std::move(*found);
  const std::string id = opt_str(info, "id").value_or("");
  if (id.empty())
    return error(errc::internal,
                 c.where().url + ": GetBucketInfo of " + spec.global_alias + " answered no id");

  json update = json::object();
  // Quotas: both limits are set together.
  const json quotas = info.value("quotas", json::object());
  if (opt_u64(quotas, "maxSize") != spec.max_size ||
      opt_u64(quotas, "maxObjects") != spec.max_objects) {
    update["quotas"] =
        json{{"maxSize", spec.max_size ? json(*spec.max_size) : json(nullptr)},
             {"maxObjects", spec.max_objects ? json(*spec.max_objects) : json(nullptr)}};
  }
  // Website access and its documents.
  const bool web_on = info.value("websiteAccess", false);
  bool web_differs = web_on != spec.website;
  if (spec.website && !web_differs) {
    const json cfg = info.value("websiteConfig", json());
    const std::optional<std::string> want_error =
        spec.error_document.empty() ? std::nullopt : std::optional(spec.error_document);
    web_differs = !cfg.is_object() || opt_str(cfg, "indexDocument") != spec.index_document ||
                  opt_str(cfg, "errorDocument") != want_error;
  }
  if (web_differs) {
    json w{{"enabled", spec.website}};
    if (spec.website) {
      w["indexDocument"] = spec.index_document;
      w["errorDocument"] = spec.error_document.empty() ? json(nullptr) : json(spec.error_document);
    }
    update["websiteAccess"] = std::move(w);
  }
  bool updated = false;
  if (!update.empty()) {
    GARAGE_ASSIGN_OR_RETURN(info, c.call("POST", "/v2/UpdateBucket?id=" + url_encode(id), update));
    updated = true;
  }
  bucket_state s = state_of(info);
  s.id = id;
  s.created = created;
  s.updated = updated;
  return s;
}

result<bool> delete_bucket(admin_client& c, const std::string& global_alias) {
  GARAGE_ASSIGN_OR_RETURN(std::optional<json> found, find_bucket(c, global_alias));
  if (!found) return true;
  bucket_state s = state_of(*found);
  auto not_empty = [&](const bucket_state& st) {
    return error(errc::conflict, "bucket " + global_alias +
                                     " is not empty: " + std::to_string(st.objects) + " objects (" +
                                     std::to_string(st.bytes) + " bytes) and " +
                                     std::to_string(st.unfinished_uploads) +
                                     " unfinished uploads remain; delete them first");
  };
  if (s.objects > 0 || s.unfinished_uploads > 0) return not_empty(s);
  auto del = c.call("POST", "/v2/DeleteBucket?id=" + url_encode(s.id));
  if (!del) {
    if (del.error().code == errc::not_found) return true;  // deleted meanwhile
    if (del.error().code == errc::conflict) {
      // Objects written since the read: say how many now.
      GARAGE_ASSIGN_OR_RETURN(std::optional<json> again, find_bucket(c, global_alias));
      if (!again) return true;
      return not_empty(state_of(*again));
    }
    return std::move(del).error();
  }
  return true;
}

}  // namespace garage::op::admin
