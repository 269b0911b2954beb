#include "model/bucket.h"

#include "model/entry_codec.h"

namespace garage::model {

namespace {
// 1: id, created, deleted, aliases, keys. 2: + local aliases, cors, website,
// lifecycle, quotas.
constexpr uint8_t kBucketFormatV1 = 1;
constexpr uint8_t kBucketFormat = 2;

void put_opt_u64(encoder& e, const std::optional<uint64_t>& v) {
  e.boolean(v.has_value());
  e.u64be(v.value_or(0));
}
std::optional<uint64_t> get_opt_u64(decoder& d) {
  bool has = d.boolean();
  uint64_t v = d.u64be();
  return has ? std::optional<uint64_t>(v) : std::nullopt;
}
void put_quotas(encoder& e, const bucket_quotas& q) {
  put_opt_u64(e, q.max_size);
  put_opt_u64(e, q.max_objects);
}
bucket_quotas get_quotas(decoder& d) {
  bucket_quotas q;
  q.max_size = get_opt_u64(d);
  q.max_objects = get_opt_u64(d);
  return q;
}
constexpr uint8_t kAliasFormat = 1;
}  // namespace

void bucket::merge(const bucket& other) {
  created_msec = std::max(created_msec, other.created_msec);
  if (deleted || other.deleted) {
    deleted = true;
    aliases = {};
    keys = {};
    local_aliases = {};
    cors = {};
    website = {};
    lifecycle = {};
    quotas = {};
    return;
  }
  aliases.merge(other.aliases);
  keys.merge(other.keys);
  local_aliases.merge(other.local_aliases);
  cors.merge(other.cors);
  website.merge(other.website);
  lifecycle.merge(other.lifecycle);
  quotas.merge(other.quotas);
}

std::string bucket::encode() const {
  encoder e;
  e.u8(kBucketFormat);
  e.bytes(id);
  e.u64be(created_msec);
  e.boolean(deleted);
  crdt::encode(e, aliases, codec::put_string, codec::put_bool);
  crdt::encode(e, keys, codec::put_string, codec::put_permission);
  crdt::encode(e, local_aliases, codec::put_string, codec::put_bool);
  crdt::encode(e, cors, codec::put_string);
  crdt::encode(e, website, codec::put_string);
  crdt::encode(e, lifecycle, codec::put_string);
  crdt::encode(e, quotas, put_quotas);
  return e.take();
}

result<bucket> bucket::decode(std::string_view bytes) {
  decoder d(bytes);
  uint8_t format = d.u8();
  if (format != kBucketFormat && format != kBucketFormatV1)
    return error(errc::corrupted, "bucket entry: unknown format");
  bucket b;
  b.id = d.bytes();
  b.created_msec = d.u64be();
  b.deleted = d.boolean();
  b.aliases = crdt::decode_lww_map(d, codec::get_string, codec::get_bool);
  b.keys = crdt::decode_lww_map(d, codec::get_string, codec::get_permission);
  if (format >= 2) {
    b.local_aliases = crdt::decode_lww_map(d, codec::get_string, codec::get_bool);
    b.cors = crdt::decode_lww(d, codec::get_string);
    b.website = crdt::decode_lww(d, codec::get_string);
    b.lifecycle = crdt::decode_lww(d, codec::get_string);
    b.quotas = crdt::decode_lww(d, get_quotas);
  }
  if (!d.complete()) return error(errc::corrupted, "bucket entry: truncated or malformed");
  return b;
}

std::string bucket_alias::encode() const {
  encoder e;
  e.u8(kAliasFormat);
  e.bytes(name);
  crdt::encode(e, bucket_id, codec::put_string);
  return e.take();
}

result<bucket_alias> bucket_alias::decode(std::string_view bytes) {
  decoder d(bytes);
  if (d.u8() != kAliasFormat) return error(errc::corrupted, "alias entry: unknown format");
  bucket_alias a;
  a.name = d.bytes();
  a.bucket_id = crdt::decode_lww(d, codec::get_string);
  if (!d.complete()) return error(errc::corrupted, "alias entry: truncated or malformed");
  return a;
}

}  // namespace garage::model
