#include "model/key.h"

#include "model/entry_codec.h"

namespace garage::model {

namespace {
// 1: id, secret, deleted, name, create flag, buckets. 2: + local aliases.
constexpr uint8_t kKeyFormatV1 = 1;
constexpr uint8_t kKeyFormat = 2;
}  // namespace

void access_key::merge(const access_key& other) {
  if (secret.empty()) secret = other.secret;
  if (deleted || other.deleted) {
    deleted = true;
    secret.clear();
    name = {};
    allow_create_bucket = {};
    buckets = {};
    local_aliases = {};
    return;
  }
  name.merge(other.name);
  allow_create_bucket.merge(other.allow_create_bucket);
  buckets.merge(other.buckets);
  local_aliases.merge(other.local_aliases);
}

bucket_permission access_key::permission_on(std::string_view bucket_id) const {
  if (deleted) return {};
  const auto* p = buckets.get(std::string(bucket_id));
  return p ? *p : bucket_permission{};
}

std::string access_key::encode() const {
  encoder e;
  e.u8(kKeyFormat);
  e.bytes(id);
  e.bytes(secret);
  e.boolean(deleted);
  crdt::encode(e, name, codec::put_string);
  crdt::encode(e, allow_create_bucket, codec::put_bool);
  crdt::encode(e, buckets, codec::put_string, codec::put_permission);
  crdt::encode(e, local_aliases, codec::put_string, codec::put_string);
  return e.take();
}

result<access_key> access_key::decode(std::string_view bytes) {
  decoder d(bytes);
  uint8_t format = d.u8();
  if (format != kKeyFormat && format != kKeyFormatV1)
    return error(errc::corrupted, "key entry: unknown format");
  access_key k;
  k.id = d.bytes();
  k.secret = d.bytes();
  k.deleted = d.boolean();
  k.name = crdt::decode_lww(d, codec::get_string);
  k.allow_create_bucket = crdt::decode_lww(d, codec::get_bool);
  k.buckets = crdt::decode_lww_map(d, codec::get_string, codec::get_permission);
  if (format >= 2) k.local_aliases = crdt::decode_lww_map(d, codec::get_string, codec::get_string);
  if (!d.complete()) return error(errc::corrupted, "key entry: truncated or malformed");
  return k;
}

}  // namespace garage::model
