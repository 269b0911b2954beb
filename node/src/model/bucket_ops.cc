#include "model/bucket_ops.h"

#include <fmt/format.h>

#include "model/ids.h"
#include "model/key_ops.h"
#include "model/object_ops.h"
#include "model/store.h"
#include "util/clock.h"

namespace garage::model {

namespace {

result<bucket> live_bucket(store& s, meta_tx& tx, std::string_view id) {
  GARAGE_ASSIGN_OR_RETURN(auto b, s.buckets().get(tx, id, ""));
  if (!b || b->deleted) return error(errc::not_found, fmt::format("bucket {} not found", id));
  return std::move(*b);
}

result<access_key> live_key(store& s, meta_tx& tx, std::string_view id) {
  GARAGE_ASSIGN_OR_RETURN(auto k, s.keys().get(tx, id, ""));
  if (!k || k->deleted) return error(errc::not_found, fmt::format("access key {} not found", id));
  return std::move(*k);
}

// Points alias `name` at bucket_id (empty: nowhere) within tx.
result<void> set_alias(store& s, meta_tx& tx, std::string_view name, std::string_view bucket_id) {
  GARAGE_ASSIGN_OR_RETURN(auto existing, s.aliases().get(tx, name, ""));
  bucket_alias a;
  a.name = std::string(name);
  if (existing) a.bucket_id = existing->bucket_id;
  a.bucket_id.update(std::string(bucket_id));
  return s.aliases().insert(tx, a);
}

result<void> set_permission(store& s, meta_tx& tx, bucket& b, access_key& k, bucket_permission p) {
  b.keys.put(k.id, p);
  k.buckets.put(b.id, p);
  GARAGE_TRY(s.buckets().insert(tx, b));
  return s.keys().insert(tx, k);
}

}  // namespace

// AWS's rules for new bucket names (the S3 router uses the same).
bool is_valid_bucket_name(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  for (char c : name)
    if (!alnum(c) && c != '.' && c != '-') return false;
  if (name.find("..") != std::string_view::npos) return false;
  if (name.starts_with("xn--") || name.starts_with("sthree-") || name.ends_with("-s3alias") ||
      name.ends_with("--ol-s3"))
    return false;
  // Formatted like an IPv4 address: four dot-separated groups of digits.
  int dots = 0;
  bool all_digits = true;
  for (char c : name) {
    if (c == '.')
      ++dots;
    else if (c < '0' || c > '9')
      all_digits = false;
  }
  return !(all_digits && dots == 3);
}

std::vector<std::string> active_aliases(const bucket& b) {
  std::vector<std::string> out;
  for (const auto& [name, active] : b.aliases.items()) {
    if (active.value) out.push_back(name);
  }
  return out;
}

result<std::string> resolve_alias(store& s, std::string_view name) {
  GARAGE_ASSIGN_OR_RETURN(auto a, s.aliases().get(name, ""));
  if (!a || a->bucket_id.value.empty()) {
    return error(errc::not_found, fmt::format("bucket {} not found", name));
  }
  return a->bucket_id.value;
}

result<bucket> get_bucket(store& s, std::string_view bucket_id) {
  GARAGE_ASSIGN_OR_RETURN(auto b, s.buckets().get(bucket_id, ""));
  if (!b || b->deleted)
    return error(errc::not_found, fmt::format("bucket {} not found", bucket_id));
  return std::move(*b);
}

result<bucket_counts> get_counts(store& s, std::string_view bucket_id) {
  GARAGE_ASSIGN_OR_RETURN(auto c, s.counters().get(bucket_id, ""));
  if (!c) return bucket_counts{};
  return s.clustered() ? c->largest_slot() : c->total();
}

result<bucket> create_bucket(store& s, std::string_view name,
                             std::optional<std::string_view> owner_key_id) {
  if (!name.empty() && !is_valid_bucket_name(name)) {
    return error(errc::invalid_argument, fmt::format("invalid bucket name: {}", name));
  }
  auto tx = s.begin();
  if (!name.empty()) {
    GARAGE_ASSIGN_OR_RETURN(auto a, s.aliases().get(*tx, name, ""));
    if (a && !a->bucket_id.value.empty()) {
      return error(errc::already_exists, fmt::format("bucket {} already exists", name));
    }
  }
  bucket b;
  b.id = new_bucket_id();
  b.created_msec = now_msec();
  if (!name.empty()) {
    b.aliases.put(std::string(name), true);
    GARAGE_TRY(set_alias(s, *tx, name, b.id));
  }
  GARAGE_TRY(s.buckets().insert(*tx, b));
  if (owner_key_id) {
    GARAGE_ASSIGN_OR_RETURN(auto k, live_key(s, *tx, *owner_key_id));
    GARAGE_TRY(set_permission(s, *tx, b, k, {true, true, true}));
  }
  GARAGE_TRY(tx->commit());
  return b;
}

result<void> delete_bucket(store& s, std::string_view bucket_id) {
  GARAGE_ASSIGN_OR_RETURN(bool empty, bucket_is_empty(s, bucket_id));
  if (!empty) return error(errc::conflict, "bucket is not empty");
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto b, live_bucket(s, *tx, bucket_id));
  for (const auto& name : active_aliases(b)) {
    GARAGE_ASSIGN_OR_RETURN(auto a, s.aliases().get(*tx, name, ""));
    if (a && a->bucket_id.value == b.id) GARAGE_TRY(set_alias(s, *tx, name, ""));
  }
  for (const auto& [key_id, perm] : b.keys.items()) {
    if (!perm.value.any()) continue;
    GARAGE_ASSIGN_OR_RETURN(auto k, s.keys().get(*tx, key_id, ""));
    if (!k || k->deleted) continue;
    k->buckets.put(b.id, bucket_permission{});
    GARAGE_TRY(s.keys().insert(*tx, *k));
  }
  for (const auto& [key_id, name] : active_local_aliases(b)) {
    GARAGE_ASSIGN_OR_RETURN(auto k, s.keys().get(*tx, key_id, ""));
    if (!k || k->deleted || local_alias_target(*k, name) != b.id) continue;
    k->local_aliases.put(name, "");
    GARAGE_TRY(s.keys().insert(*tx, *k));
  }
  bucket tomb;
  tomb.id = b.id;
  tomb.created_msec = b.created_msec;
  tomb.deleted = true;
  GARAGE_TRY(s.buckets().insert(*tx, tomb));
  return tx->commit();
}

result<std::vector<bucket>> list_buckets(store& s) {
  return scan_entries(s.buckets(), [](const bucket& b) { return !b.deleted; });
}

result<void> add_alias(store& s, std::string_view bucket_id, std::string_view name) {
  if (!is_valid_bucket_name(name)) {
    return error(errc::invalid_argument, fmt::format("invalid bucket name: {}", name));
  }
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto b, live_bucket(s, *tx, bucket_id));
  GARAGE_ASSIGN_OR_RETURN(auto a, s.aliases().get(*tx, name, ""));
  if (a && !a->bucket_id.value.empty()) {
    if (a->bucket_id.value == b.id) return ok();
    return error(errc::already_exists, fmt::format("alias {} is already in use", name));
  }
  b.aliases.put(std::string(name), true);
  GARAGE_TRY(set_alias(s, *tx, name, b.id));
  GARAGE_TRY(s.buckets().insert(*tx, b));
  return tx->commit();
}

result<void> remove_alias(store& s, std::string_view bucket_id, std::string_view name) {
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto b, live_bucket(s, *tx, bucket_id));
  auto aliases = active_aliases(b);
  if (std::find(aliases.begin(), aliases.end(), name) == aliases.end()) {
    return error(errc::not_found, fmt::format("bucket has no alias {}", name));
  }
  if (aliases.size() == 1 && active_local_aliases(b).empty()) {
    return error(errc::conflict,
                 "refusing to remove the last alias: the bucket would become unreachable");
  }
  b.aliases.put(std::string(name), false);
  GARAGE_TRY(set_alias(s, *tx, name, ""));
  GARAGE_TRY(s.buckets().insert(*tx, b));
  return tx->commit();
}

std::vector<std::pair<std::string, std::string>> active_local_aliases(const bucket& b) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [entry, active] : b.local_aliases.items()) {
    auto slash = entry.find('/');
    if (!active.value || slash == std::string::npos) continue;
    out.emplace_back(entry.substr(0, slash), entry.substr(slash + 1));
  }
  return out;
}

std::optional<std::string> local_alias_target(const access_key& k, std::string_view name) {
  const std::string* id = k.local_aliases.get(std::string(name));
  if (!id || id->empty()) return std::nullopt;
  return *id;
}

result<std::string> resolve_bucket_name(store& s, const access_key* k, std::string_view name) {
  if (k) {
    if (auto id = local_alias_target(*k, name)) return std::move(*id);
  }
  return resolve_alias(s, name);
}

result<void> add_local_alias(store& s, std::string_view bucket_id, std::string_view key_id,
                             std::string_view name) {
  if (!is_valid_bucket_name(name)) {
    return error(errc::invalid_argument, fmt::format("invalid bucket name: {}", name));
  }
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto b, live_bucket(s, *tx, bucket_id));
  GARAGE_ASSIGN_OR_RETURN(auto k, live_key(s, *tx, key_id));
  if (auto existing = local_alias_target(k, name)) {
    if (*existing == b.id) return ok();
    return error(errc::already_exists, fmt::format("alias {} of key {} already points to bucket {}",
                                                   name, k.id, *existing));
  }
  k.local_aliases.put(std::string(name), b.id);
  b.local_aliases.put(k.id + "/" + std::string(name), true);
  GARAGE_TRY(s.keys().insert(*tx, k));
  GARAGE_TRY(s.buckets().insert(*tx, b));
  return tx->commit();
}

result<void> remove_local_alias(store& s, std::string_view bucket_id, std::string_view key_id,
                                std::string_view name) {
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto b, live_bucket(s, *tx, bucket_id));
  GARAGE_ASSIGN_OR_RETURN(auto k, live_key(s, *tx, key_id));
  if (local_alias_target(k, name) != b.id) {
    return error(errc::not_found,
                 fmt::format("key {} has no local alias {} for this bucket", k.id, name));
  }
  if (active_aliases(b).empty() && active_local_aliases(b).size() == 1) {
    return error(errc::conflict,
                 "refusing to remove the last alias: the bucket would become unreachable");
  }
  k.local_aliases.put(std::string(name), "");
  b.local_aliases.put(k.id + "/" + std::string(name), false);
  GARAGE_TRY(s.keys().insert(*tx, k));
  GARAGE_TRY(s.buckets().insert(*tx, b));
  return tx->commit();
}

namespace {

// Reads the key's permission on the bucket, changes it and writes both sides.
template <class Change>
result<void> change_permission(store& s, std::string_view bucket_id, std::string_view key_id,
                               Change change) {
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto b, live_bucket(s, *tx, bucket_id));
  GARAGE_ASSIGN_OR_RETURN(auto k, live_key(s, *tx, key_id));
  bucket_permission p = k.permission_on(b.id);
  change(p);
  GARAGE_TRY(set_permission(s, *tx, b, k, p));
  return tx->commit();
}

}  // namespace

result<void> allow_key(store& s, std::string_view bucket_id, std::string_view key_id,
                       bucket_permission perm) {
  return change_permission(s, bucket_id, key_id, [&](bucket_permission& p) {
    p.read |= perm.read;
    p.write |= perm.write;
    p.owner |= perm.owner;
  });
}

result<void> deny_key(store& s, std::string_view bucket_id, std::string_view key_id,
                      bucket_permission perm) {
  return change_permission(s, bucket_id, key_id, [&](bucket_permission& p) {
    p.read &= !perm.read;
    p.write &= !perm.write;
    p.owner &= !perm.owner;
  });
}

}  // namespace garage::model
