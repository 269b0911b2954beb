// lww<T>: a last-writer-wins register. The value with the higher timestamp
// wins; on equal timestamps the larger value wins, so that merge does not
// depend on order.
#pragma once

#include <cstdint>
#include <utility>

#include "util/clock.h"
#include "util/crdt/crdt.h"

namespace garage::crdt {

template <std::totally_ordered T>
struct lww {
  uint64_t timestamp = 0;
  T value{};

  // Writes v with a timestamp after both the clock and the current one.
  void update(T v) {
    timestamp = next_timestamp(timestamp);
    value = std::move(v);
  }

  void merge(const lww& other) {
    if (other.timestamp > timestamp || (other.timestamp == timestamp && value < other.value))
      *this = other;
  }

  bool operator==(const lww&) const = default;
};

// version byte, u64 timestamp, value.
template <class T, class Enc>
void encode(encoder& e, const lww<T>& v, Enc&& enc_value) {
  e.u8(codec_version);
  e.u64be(v.timestamp);
  enc_value(e, v.value);
}

template <class Dec>
lww<decoded_t<Dec>> decode_lww(decoder& d, Dec&& dec_value) {
  lww<decoded_t<Dec>> out;
  if (!read_version(d)) return out;
  out.timestamp = d.u64be();
  out.value = dec_value(d);
  return out;
}

}  // namespace garage::crdt
