#include "model/block_ref.h"

#include "util/codec.h"

namespace garage::model {

namespace {
constexpr uint8_t kBlockRefFormat = 1;
}

std::string block_ref::encode() const {
  encoder e;
  e.u8(kBlockRefFormat);
  e.raw(block.view());
  e.bytes(version_id);
  e.boolean(deleted);
  return e.take();
}

result<block_ref> block_ref::decode(std::string_view bytes) {
  decoder d(bytes);
  if (d.u8() != kBlockRefFormat) return error(errc::corrupted, "block_ref entry: unknown format");
  block_ref r;
  auto raw = d.raw(32);
  if (raw.size() == 32) r.block = hash256::from_raw(raw);
  r.version_id = d.bytes();
  r.deleted = d.boolean();
  if (!d.complete()) return error(errc::corrupted, "block_ref entry: truncated or malformed");
  return r;
}

}  // namespace garage::model
