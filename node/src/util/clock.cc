#include "util/clock.h"

#include <algorithm>
#include <chrono>

namespace garage {

uint64_t now_msec() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

uint64_t next_timestamp(uint64_t previous) { return std::max(now_msec(), previous + 1); }

}  // namespace garage
