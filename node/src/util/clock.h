// Time. Wall-clock milliseconds since the epoch, and the hybrid timestamps of
// CRDT entries: a new timestamp for an entry is never behind one already seen
// for it, so a node with a slow clock cannot lose a newer write.
#pragma once

#include <cstdint>

namespace garage {

uint64_t now_msec();
// max(now_msec(), previous + 1).
uint64_t next_timestamp(uint64_t previous);

}  // namespace garage
