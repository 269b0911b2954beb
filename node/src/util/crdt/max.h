// max<T>: a register that only grows; merge keeps the larger value.
#pragma once

#include <utility>

#include "util/crdt/crdt.h"

namespace garage::crdt {

template <std::totally_ordered T>
struct max {
  T value{};

  // Raises the value to v if v is larger.
  void update(T v) {
    if (value < v) value = std::move(v);
  }
  void merge(const max& other) {
    if (value < other.value) value = other.value;
  }
  bool operator==(const max&) const = default;
};

// Just the value: a max is usually one field of a versioned entry.
template <class T, class Enc>
void encode(encoder& e, const max<T>& v, Enc&& enc_value) {
  enc_value(e, v.value);
}

template <class Dec>
max<decoded_t<Dec>> decode_max(decoder& d, Dec&& dec_value) {
  return max<decoded_t<Dec>>{dec_value(d)};
}

}  // namespace garage::crdt
