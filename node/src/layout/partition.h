// Partitions: the unit of placement. The key space (BLAKE2b-256 hashes of
// partition keys and block ids) is cut into 256 partitions by the first byte.
#pragma once

#include <cstdint>

#include "util/hash.h"

namespace garage::layout {

constexpr uint32_t partition_count = 256;

// The partition of a hash: its first byte (0..255).
inline uint32_t partition_of(const hash256& h) { return h.bytes[0]; }

}  // namespace garage::layout
