#include "model/version.h"

#include "util/codec.h"

namespace garage::model {

namespace {
constexpr uint8_t kVersionFormat = 1;
}

void version::merge(const version& other) {
  if (bucket_id.empty()) {
    bucket_id = other.bucket_id;
    key = other.key;
  }
  if (deleted || other.deleted) {
    deleted = true;
    blocks.clear();
    return;
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
  e.bytes(bucket_id);
  e.bytes(key);
  e.varint(blocks.size());
  for (const auto& [loc, b] : blocks) {
    e.u32be(loc.part_number);
    e.u64be(loc.offset);
    e.raw(b.hash.view());
    e.varint(b.size);
  }
  return e.take();
}

result<version> version::decode(std::string_view bytes) {
  decoder d(bytes);
  if (d.u8() != kVersionFormat) return error(errc::corrupted, "version entry: unknown format");
  version v;
  v.id = d.bytes();
  v.deleted = d.boolean();
  v.bucket_id = d.bytes();
  v.key = d.bytes();
  uint64_t n = d.varint();
  if (n > d.remaining()) return error(errc::corrupted, "version entry: bad block count");
  for (uint64_t i = 0; i < n && !d.failed(); ++i) {
    block_location loc;
    loc.part_number = d.u32be();
    loc.offset = d.u64be();
    version_block b;
    auto raw = d.raw(32);
    if (raw.size() == 32) b.hash = hash256::from_raw(raw);
    b.size = d.varint();
    v.blocks.emplace(loc, b);
  }
  if (!d.complete()) return error(errc::corrupted, "version entry: truncated or malformed");
  return v;
}

}  // namespace garage::model
