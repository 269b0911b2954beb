#include "util/random.h"

#include <sodium.h>

#include "util/encoding.h"

namespace garage {

std::string random_bytes(size_t n) {
  static const bool initialised = sodium_init() >= 0;
  (void)initialised;
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string random_hex(size_t n_bytes) { return hex_encode(random_bytes(n_bytes)); }

}  // namespace garage
