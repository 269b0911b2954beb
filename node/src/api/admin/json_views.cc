#include "api/admin/json_views.h"

#include <algorithm>

#include "api/common/http.h"
#include "model/bucket_ops.h"
#include "model/key_ops.h"
#include "model/store.h"
#include "model/website_config.h"

namespace garage::admin {

ojson permission_json(const model::bucket_permission& p) {
  ojson j;
  j["read"] = p.read;
  j["write"] = p.write;
  j["owner"] = p.owner;
  return j;
}

api_result<ojson> key_info_json(model::store& s, const model::access_key& k, bool show_secret) {
  ojson j;
  j["accessKeyId"] = k.id;
  j["name"] = k.name.value;
  j["secretAccessKey"] = show_secret ? ojson(k.secret) : ojson(nullptr);
  j["created"] = nullptr;
  j["expiration"] = nullptr;
  j["expired"] = false;
  j["permissions"] = ojson{{"createBucket", k.allow_create_bucket.value}};
  ojson buckets = ojson::array();
  for (const auto& [bucket_id, perm] : k.buckets.items()) {
    if (!perm.value.any()) continue;
    auto b = model::get_bucket(s, bucket_id);
    if (!b) {
      if (b.error().code == errc::not_found) continue;
      return from_model_error(b.error(), subject::bucket);
    }
    ojson item;
    item["id"] = bucket_id;
    item["globalAliases"] = model::active_aliases(*b);
    ojson local = ojson::array();
    for (const auto& [name, target] : k.local_aliases.items()) {
      if (target.value == bucket_id) local.push_back(name);
    }
    item["localAliases"] = std::move(local);
    item["permissions"] = permission_json(perm.value);
    buckets.push_back(std::move(item));
  }
  j["buckets"] = std::move(buckets);
  return j;
}

ojson bucket_info_json(const model::bucket& b, const model::bucket_counts& counts,
                       const std::vector<std::pair<std::string, std::string>>& key_names) {
  ojson j;
  j["id"] = b.id;
  j["created"] = http::format_iso8601(b.created_msec);
  j["globalAliases"] = model::active_aliases(b);
  j["websiteAccess"] = !b.website.value.empty();
  j["websiteConfig"] = nullptr;
  if (auto w = model::website_from_json(b.website.value); w && !w->redirect_all) {
    j["websiteConfig"] =
        ojson{{"indexDocument", w->index_document},
              {"errorDocument", w->error_document ? ojson(*w->error_document) : ojson(nullptr)}};
  }
  ojson keys = ojson::array();
  for (const auto& [key_id, perm] : b.keys.items()) {
    if (!perm.value.any()) continue;
    auto it = std::find_if(key_names.begin(), key_names.end(),
                           [&](const auto& p) { return p.first == key_id; });
    if (it == key_names.end()) continue;
    ojson item;
    item["accessKeyId"] = key_id;
    item["name"] = it->second;
    item["permissions"] = permission_json(perm.value);
    ojson local = ojson::array();
    for (const auto& [local_key, name] : model::active_local_aliases(b)) {
      if (local_key == key_id) local.push_back(name);
    }
    item["bucketLocalAliases"] = std::move(local);
    keys.push_back(std::move(item));
  }
  // Keys with a local alias to the bucket but no permission on it.
  for (const auto& [local_key, name] : model::active_local_aliases(b)) {
    const auto* p = b.keys.get(local_key);
    if (p && p->any()) continue;
    auto it = std::find_if(key_names.begin(), key_names.end(),
                           [&](const auto& kn) { return kn.first == local_key; });
    if (it == key_names.end()) continue;
    auto listed = std::find_if(keys.begin(), keys.end(),
                               [&](const ojson& e) { return e["accessKeyId"] == local_key; });
    if (listed == keys.end()) {
      ojson item;
      item["accessKeyId"] = local_key;
      item["name"] = it->second;
      item["permissions"] = permission_json({});
      item["bucketLocalAliases"] = ojson::array();
      keys.push_back(std::move(item));
      listed = keys.end() - 1;
    }
    (*listed)["bucketLocalAliases"].push_back(name);
  }
  j["keys"] = std::move(keys);
  j["objects"] = counts.objects;
  j["bytes"] = counts.bytes;
  j["unfinishedUploads"] = counts.uploads;
  j["unfinishedMultipartUploads"] = 0;
  j["unfinishedMultipartUploadParts"] = 0;
  j["unfinishedMultipartUploadBytes"] = 0;
  const auto& q = b.quotas.value;
  j["quotas"] = ojson{{"maxSize", q.max_size ? ojson(*q.max_size) : ojson(nullptr)},
                      {"maxObjects", q.max_objects ? ojson(*q.max_objects) : ojson(nullptr)}};
  return j;
}

api_result<ojson> bucket_info_json(model::store& s, const model::bucket& b) {
  std::vector<std::pair<std::string, std::string>> names;
  for (const auto& [key_id, perm] : b.keys.items()) {
    if (!perm.value.any()) continue;
    auto k = model::get_key(s, key_id);
    if (!k) {
      if (k.error().code == errc::not_found) continue;
      return from_model_error(k.error(), subject::key);
    }
    names.emplace_back(key_id, k->name.value);
  }
  for (const auto& [key_id, name] : model::active_local_aliases(b)) {
    const auto* p = b.keys.get(key_id);
    if (p && p->any()) continue;
    auto k = model::get_key(s, key_id);
    if (!k) {
      if (k.error().code == errc::not_found) continue;
      return from_model_error(k.error(), subject::key);
    }
    names.emplace_back(key_id, k->name.value);
  }
  auto counts = model::get_counts(s, b.id);
  if (!counts) return from_model_error(counts.error(), subject::bucket);
  return bucket_info_json(b, *counts, names);
}

ojson bucket_list_item_json(const model::bucket& b) {
  ojson j;
  j["id"] = b.id;
  j["created"] = http::format_iso8601(b.created_msec);
  j["globalAliases"] = model::active_aliases(b);
  ojson local = ojson::array();
  for (const auto& [key_id, name] : model::active_local_aliases(b)) {
    local.push_back(ojson{{"accessKeyId", key_id}, {"alias", name}});
  }
  j["localAliases"] = std::move(local);
  return j;
}

std::string to_body(const ojson& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace garage::admin
