// Cryptographically secure random bytes (libsodium). Thread-safe.
#pragma once

#include <string>

namespace garage {

std::string random_bytes(size_t n);
std::string random_hex(size_t n_bytes);  // 2*n_bytes hex digits

}  // namespace garage
