// What an access key may do on a bucket.
#pragma once

#include <compare>

#include "util/codec.h"

namespace garage::model {

struct bucket_permission {
  bool read = false;
  bool write = false;
  bool owner = false;

  bool any() const { return read || write || owner; }
  auto operator<=>(const bucket_permission&) const = default;

  void encode(encoder& e) const {
    e.u8(static_cast<uint8_t>((read ? 1 : 0) | (write ? 2 : 0) | (owner ? 4 : 0)));
  }
  static bucket_permission decode(decoder& d) {
    uint8_t b = d.u8();
    if (b > 7) d.fail();
    return {(b & 1) != 0, (b & 2) != 0, (b & 4) != 0};
  }
};

}  // namespace garage::model
