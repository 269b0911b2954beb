// block_rc: the persisted encodings of block reference counts and of the
// garbage-collection queue. Pure, no I/O.
//
// Tree "block_rc": key = the raw 32-byte block id, value =
//   u8 version (1) · varint count · u64be zero_since_msec
// zero_since_msec is when the count last became zero (or when a zero-count
// block was last written); it is 0 and meaningless while count > 0. An absent
// entry means count 0 and nothing queued.
//
// Tree "block_gc": key = u64be zero_since_msec · raw 32-byte id, value =
//   u8 version (1)
// One entry per zero-count block, keyed by the time its count became zero, so
// garbage collection reads only the prefix that is old enough. Keyed by that
// time rather than by a deadline so that changing block_gc_delay_secs applies
// to blocks already queued.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/hash.h"

namespace garage::block {

inline constexpr std::string_view rc_tree_name = "block_rc";
inline constexpr std::string_view gc_tree_name = "block_gc";
inline constexpr uint8_t rc_entry_version = 1;
inline constexpr uint8_t gc_entry_version = 1;

struct rc_entry {
  uint64_t count = 0;
  uint64_t zero_since_msec = 0;
  bool operator==(const rc_entry&) const = default;
};

std::string encode_rc_entry(const rc_entry& e);
// nullopt when the bytes are not an entry of a known version.
std::optional<rc_entry> decode_rc_entry(std::string_view bytes);

struct gc_key {
  uint64_t zero_since_msec = 0;
  hash256 id;
};

std::string encode_gc_key(const gc_key& k);
std::optional<gc_key> decode_gc_key(std::string_view bytes);
// The exclusive upper bound of the keys whose zero_since_msec <= t.
std::string gc_key_bound(uint64_t t);
std::string encode_gc_value();

}  // namespace garage::block
