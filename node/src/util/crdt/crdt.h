// CRDT primitives: values that replicas can change independently and merge in
// any order to the same result. Every type here is a join-semilattice:
//
//   a.merge(b) then equal to b.merge(a)          (commutative)
//   merging (a, b) then c equals a then (b, c)   (associative)
//   a.merge(a) leaves a unchanged                (idempotent)
//
// tests/unit/util/crdt_test.cc checks these laws on random values. Each type
// has an encoder and a decoder (util/codec.h) that take callables for its
// element types: `void(encoder&, const T&)` and `T(decoder&)`; a decoder
// callable reports bad input by failing the decoder (decoder::fail()).
//
// Header-only, no I/O; not thread-safe (values are owned by one thread at a time).
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <type_traits>

#include "util/codec.h"

namespace garage::crdt {

// A state-based CRDT: merge joins another state into this one.
template <class T>
concept mergeable = std::copyable<T> && std::equality_comparable<T> && requires(T& a, const T& b) {
  a.merge(b);
};

// a merged with b, as a new value.
template <mergeable T>
T merged(T a, const T& b) {
  a.merge(b);
  return a;
}

// The type a decoder callable `Dec` produces.
template <class Dec>
using decoded_t = std::remove_cvref_t<std::invoke_result_t<Dec&, decoder&>>;

// Element codecs for common element types, to pass as callables.
inline void encode_string(encoder& e, const std::string& s) { e.bytes(s); }
inline std::string decode_string(decoder& d) { return d.bytes(); }
inline void encode_u64(encoder& e, const uint64_t& v) { e.varint(v); }
inline uint64_t decode_u64(decoder& d) { return d.varint(); }
inline void encode_bool(encoder& e, const bool& v) { e.boolean(v); }
inline bool decode_bool(decoder& d) {
  uint8_t b = d.u8();
  if (b > 1) d.fail();
  return b == 1;
}

// The version byte that starts the encoding of lww, lww_map, deletable and
// crdt_map; decoders refuse any other.
inline constexpr uint8_t codec_version = 1;

inline bool read_version(decoder& d) {
  if (d.u8() == codec_version && !d.failed()) return true;
  d.fail();
  return false;
}

}  // namespace garage::crdt
