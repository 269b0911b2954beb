#include "model/bucket.h"

#include "model/entry_codec.h"

namespace garage::model {

namespace {
constexpr uint8_t kBucketFormat = 1;
constexpr uint8_t kAliasFormat = 1;
}  // namespace

void bucket::merge(const bucket& other) {
  created_msec = std::max(created_msec, other.created_msec);
  if (deleted || other.deleted) {
    deleted = true;
    aliases = {};
    keys = {};
    return;
  }
  aliases.merge(other.aliases);
  keys.merge(other.keys);
}

std::string bucket::encode() const {
  encoder e;
  e.u8(kBucketFormat);
  e.bytes(id);
  e.u64be(created_msec);
  e.boolean(deleted);
  crdt::encode(e, aliases, codec::put_string, codec::put_bool);
  crdt::encode(e, keys, codec::put_string, codec::put_permission);
  return e.take();
}

result<bucket> bucket::decode(std::string_view bytes) {
  decoder d(bytes);
  if (d.u8() != kBucketFormat) return error(errc::corrupted, "bucket entry: unknown format");
  bucket b;
  b.id = d.bytes();
  b.created_msec = d.u64be();
  b.deleted = d.boolean();
  b.aliases = crdt::decode_lww_map(d, codec::get_string, codec::get_bool);
  b.keys = crdt::decode_lww_map(d, codec::get_string, codec::get_permission);
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
