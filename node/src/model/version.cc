#include "model/version.h"

#include <algorithm>

#include "util/codec.h"

namespace garage::model {

namespace {
// 1: parts without checksums; 2: each part has its checksum after its size.
constexpr uint8_t kVersionFormat = 2;
}  // namespace

void version::merge(const version& other) {
  if (bucket_id.empty()) {
    bucket_id = other.bucket_id;
    key = other.key;
  }
  updated_msec = std::max(updated_msec, other.updated_msec);
  if (deleted || other.deleted) {
    deleted = true;
    blocks.clear();
    parts.clear();
    return;
  }
  for (const auto& [k, p] : other.parts) {
    auto [it, inserted] = parts.emplace(k, p);
    if (!inserted && it->second < p) it->second = p;
  }
  for (const auto& [loc, b] : other.blocks) {
    auto [it, inserted] = blocks.emplace(loc, b);
    // The same location written twice carries the same block; keep the larger
    // deterministically so that merge commutes.
    if (!inserted && it->second < b) it->second = b;
  }
}

std::string version::encode() const {
  encoder e;
  e.u8(kVersionFormat);
  e.bytes(id);
  e.boolean(deleted);
  e.u64be(updated_msec);
  e.bytes(bucket_id);
  e.bytes(key);
  e.varint(blocks.size());
  for (const auto& [loc, b] : blocks) {
    e.u32be(loc.part_number);
    e.u64be(loc.attempt);
    e.u64be(loc.offset);
    e.raw(b.hash.view());
    e.varint(b.size);
  }
  e.varint(parts.size());
  for (const auto& [k, p] : parts) {
    e.u32be(k.part_number);
    e.u64be(k.attempt);
    e.bytes(p.etag);
    e.varint(p.size);
    e.bytes(p.checksum);
  }
  return e.take();
}

result<version> version::decode(std::string_view bytes) {
  decoder d(bytes);
  uint8_t format = d.u8();
  if (format < 1 || format > kVersionFormat) {
    return error(errc::corrupted, "version entry: unknown format");
  }
  version v;
  v.id = d.bytes();
  v.deleted = d.boolean();
  v.updated_msec = d.u64be();
  v.bucket_id = d.bytes();
  v.key = d.bytes();
  uint64_t n = d.varint();
  if (n > d.remaining()) return error(errc::corrupted, "version entry: bad block count");
  for (uint64_t i = 0; i < n && !d.failed(); ++i) {
    block_location loc;
    loc.part_number = d.u32be();
    loc.attempt = d.u64be();
    loc.offset = d.u64be();
    version_block b;
    auto raw = d.raw(32);
    if (raw.size() == 32) b.hash = hash256::from_raw(raw);
    b.size = d.varint();
    v.blocks.emplace(loc, b);
  }
  uint64_t np = d.varint();
  if (np > d.remaining()) return error(errc::corrupted, "version entry: bad part count");
  for (uint64_t i = 0; i < np && !d.failed(); ++i) {
    part_key k;
    k.part_number = d.u32be();
    k.attempt = d.u64be();
    part_info p;
    p.etag = d.bytes();
    p.size = d.varint();
    if (format >= 2) p.checksum = d.bytes();
    v.parts.emplace(k, p);
  }
  if (!d.complete()) return error(errc::corrupted, "version entry: truncated or malformed");
  return v;
}

}  // namespace garage::model
