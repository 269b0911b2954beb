#include "util/codec.h"

namespace garage {

void encoder::u32be(uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) u8(static_cast<uint8_t>(v >> s));
}

void encoder::u64be(uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) u8(static_cast<uint8_t>(v >> s));
}

void encoder::varint(uint64_t v) {
  while (v >= 0x80) {
    u8(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  u8(static_cast<uint8_t>(v));
}

void encoder::bytes(std::string_view s) {
  varint(s.size());
  raw(s);
}

uint8_t decoder::u8() {
  if (failed_ || pos_ >= in_.size()) {
    failed_ = true;
    return 0;
  }
  return static_cast<uint8_t>(in_[pos_++]);
}

uint32_t decoder::u32be() {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | u8();
  return failed_ ? 0 : v;
}

uint64_t decoder::u64be() {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | u8();
  return failed_ ? 0 : v;
}

uint64_t decoder::varint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    uint8_t b = u8();
    if (failed_) return 0;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  failed_ = true;  // more than 10 bytes: not a varint we wrote
  return 0;
}

std::string_view decoder::raw(size_t n) {
  if (failed_ || n > remaining()) {
    failed_ = true;
    return {};
  }
  auto out = in_.substr(pos_, n);
  pos_ += n;
  return out;
}

std::string decoder::bytes() {
  uint64_t n = varint();
  if (failed_ || n > remaining()) {
    failed_ = true;
    return {};
  }
  return std::string(raw(static_cast<size_t>(n)));
}

}  // namespace garage
