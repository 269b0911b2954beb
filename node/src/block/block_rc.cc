#include "block/block_rc.h"

#include "util/codec.h"

namespace garage::block {

std::string encode_rc_entry(const rc_entry& e) {
  encoder enc;
  enc.u8(rc_entry_version);
  enc.varint(e.count);
  enc.u64be(e.zero_since_msec);
  return enc.take();
}

std::optional<rc_entry> decode_rc_entry(std::string_view bytes) {
  decoder dec(bytes);
  if (dec.u8() != rc_entry_version) return std::nullopt;
  rc_entry e;
  e.count = dec.varint();
  e.zero_since_msec = dec.u64be();
  if (!dec.complete()) return std::nullopt;
  return e;
}

std::string encode_gc_key(const gc_key& k) {
  encoder enc;
  enc.u64be(k.zero_since_msec);
  enc.raw(k.id.view());
  return enc.take();
}

std::optional<gc_key> decode_gc_key(std::string_view bytes) {
  decoder dec(bytes);
  gc_key k;
  k.zero_since_msec = dec.u64be();
  std::string_view id = dec.raw(32);
  if (!dec.complete()) return std::nullopt;
  k.id = hash256::from_raw(id);
  return k;
}

std::string gc_key_bound(uint64_t t) {
  // Every key with zero_since <= t sorts before the 8-byte prefix t + 1; at the
  // top of the range, before a string longer than any key and made of 0xff.
  if (t == UINT64_MAX) return std::string(41, '\xff');
  encoder enc;
  enc.u64be(t + 1);
  return enc.take();
}

std::string encode_gc_value() { return std::string(1, static_cast<char>(gc_entry_version)); }

}  // namespace garage::block
