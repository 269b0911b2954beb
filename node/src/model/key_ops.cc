#include "model/key_ops.h"

#include <fmt/format.h>

#include <algorithm>

#include "model/ids.h"
#include "model/store.h"

namespace garage::model {

namespace {

access_key new_key(std::string_view id, std::string_view secret, std::string_view name) {
  access_key k;
  k.id = std::string(id);
  k.secret = std::string(secret);
  k.name.update(std::string(name));
  k.allow_create_bucket.update(false);
  return k;
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

}  // namespace

result<access_key> create_key(store& s, std::string_view name) {
  auto k = new_key(new_key_id(), new_secret_key(), name);
  GARAGE_TRY(s.keys().insert(k));
  return k;
}

result<access_key> import_key(store& s, std::string_view id, std::string_view secret,
                              std::string_view name) {
  if (!is_valid_key_id(id)) {
    return error(errc::invalid_argument,
                 fmt::format("invalid key id {}: expected GK followed by 24 hex digits", id));
  }
  if (secret.size() != 64 || !is_hex(secret)) {
    return error(errc::invalid_argument, "invalid secret key: expected 64 hex digits");
  }
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto existing, s.keys().get(*tx, id, ""));
  if (existing) {
    return error(errc::already_exists,
                 fmt::format("access key {} already exists (or was deleted)", id));
  }
  auto k = new_key(id, secret, name);
  GARAGE_TRY(s.keys().insert(*tx, k));
  GARAGE_TRY(tx->commit());
  return k;
}

result<access_key> get_key(store& s, std::string_view id) {
  GARAGE_ASSIGN_OR_RETURN(auto k, s.keys().get(id, ""));
  if (!k || k->deleted) return error(errc::not_found, fmt::format("access key {} not found", id));
  return std::move(*k);
}

result<std::vector<access_key>> list_keys(store& s) {
  GARAGE_ASSIGN_OR_RETURN(auto out,
                          scan_entries(s.keys(), [](const access_key& k) { return !k.deleted; }));
  std::sort(out.begin(), out.end(),
            [](const access_key& a, const access_key& b) { return a.id < b.id; });
  return out;
}

result<access_key> find_key(store& s, std::string_view pattern) {
  if (pattern.empty()) return error(errc::invalid_argument, "empty key pattern");
  auto exact = get_key(s, pattern);
  if (exact) return exact;
  GARAGE_ASSIGN_OR_RETURN(auto all, list_keys(s));
  std::vector<access_key> matches;
  for (auto& k : all) {
    if (k.id.starts_with(pattern) || k.name.value == pattern) matches.push_back(std::move(k));
  }
  if (matches.empty()) {
    return error(errc::not_found, fmt::format("no access key matches {}", pattern));
  }
  if (matches.size() > 1) {
    return error(errc::invalid_argument, fmt::format("{} access keys match {}; give more of the id",
                                                     matches.size(), pattern));
  }
  return std::move(matches.front());
}

result<access_key> update_key(store& s, std::string_view id, std::optional<std::string> name,
                              std::optional<bool> allow_create_bucket) {
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto k, s.keys().get(*tx, id, ""));
  if (!k || k->deleted) return error(errc::not_found, fmt::format("access key {} not found", id));
  if (name) k->name.update(*name);
  if (allow_create_bucket) k->allow_create_bucket.update(*allow_create_bucket);
  GARAGE_TRY(s.keys().insert(*tx, *k));
  GARAGE_TRY(tx->commit());
  return std::move(*k);
}

result<void> delete_key(store& s, std::string_view id) {
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto k, s.keys().get(*tx, id, ""));
  if (!k || k->deleted) return error(errc::not_found, fmt::format("access key {} not found", id));
  for (const auto& [bucket_id, perm] : k->buckets.items()) {
    if (!perm.value.any()) continue;
    GARAGE_ASSIGN_OR_RETURN(auto b, s.buckets().get(*tx, bucket_id, ""));
    if (!b || b->deleted) continue;
    b->keys.put(k->id, bucket_permission{});
    GARAGE_TRY(s.buckets().insert(*tx, *b));
  }
  // The buckets' side of the key's local aliases goes with the key.
  for (const auto& [name, bucket_id] : k->local_aliases.items()) {
    if (bucket_id.value.empty()) continue;
    GARAGE_ASSIGN_OR_RETURN(auto b, s.buckets().get(*tx, bucket_id.value, ""));
    if (!b || b->deleted) continue;
    b->local_aliases.put(k->id + "/" + name, false);
    GARAGE_TRY(s.buckets().insert(*tx, *b));
  }
  access_key tomb;
  tomb.id = k->id;
  tomb.deleted = true;
  GARAGE_TRY(s.keys().insert(*tx, tomb));
  return tx->commit();
}

}  // namespace garage::model
