// AES-256-GCM sealing of stored data (SSE-C blocks and inline bytes), with
// OpenSSL EVP. A sealed value is self-contained:
//   u8 version (1) · 12-byte random nonce · ciphertext · 16-byte tag
// so that each block carries its own nonce. Thread-safe, no state.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace garage {

inline constexpr size_t kAesGcmKeySize = 32;
// Bytes a sealed value adds to its plaintext.
inline constexpr size_t kAesGcmOverhead = 1 + 12 + 16;

// Encrypts `plain` under `key` (32 bytes; invalid_argument otherwise) with a
// fresh random nonce.
result<std::string> aes256gcm_seal(std::string_view key, std::string_view plain);

// Decrypts a value made by aes256gcm_seal. permission_denied when the tag
// does not verify (wrong key or altered bytes), corrupted when the value is
// not a sealed value at all, invalid_argument for a key of the wrong size.
result<std::string> aes256gcm_open(std::string_view key, std::string_view sealed);

}  // namespace garage
