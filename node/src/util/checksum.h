// The S3 additional checksums (x-amz-checksum-*): CRC32, CRC32C and CRC64NVME
// (table-driven here), SHA-1 and SHA-256 (OpenSSL, through digest_hasher).
//
// Values are raw bytes: a CRC is its big-endian register (4 or 8 bytes), a
// SHA its digest; S3 sends them base64-encoded. CRCs can be combined: the CRC
// of A||B from crc(A), crc(B) and the length of B, which is how a multipart
// upload's full-object CRC is computed from its parts.
//
// Functions are pure and thread-safe; a checksum_hasher is one per stream.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/hash.h"

namespace garage {

// Stored in object metadata: the values are part of the format.
enum class checksum_algorithm : uint8_t {
  crc32 = 1,
  crc32c = 2,
  crc64nvme = 3,
  sha1 = 4,
  sha256 = 5,
};

// CRC-32 (ISO-HDLC, as zlib), CRC-32C (Castagnoli) and CRC-64/NVME, each with
// the standard initial value and final xor. `crc` continues a previous result:
// crc32(b, crc32(a)) == crc32(a + b).
uint32_t crc32(std::string_view data, uint32_t crc = 0);
uint32_t crc32c(std::string_view data, uint32_t crc = 0);
uint64_t crc64nvme(std::string_view data, uint64_t crc = 0);

// "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256".
std::string_view checksum_name(checksum_algorithm a);
// The name, case-insensitively; nullopt for anything else.
std::optional<checksum_algorithm> parse_checksum_name(std::string_view name);
// Size of a raw value: 4, 4, 8, 20, 32.
size_t checksum_size(checksum_algorithm a);
bool checksum_is_crc(checksum_algorithm a);

// Raw CRC of A||B, given the raw CRCs of A and B and B's length. For CRC
// algorithms only (empty string otherwise, or when a value has a wrong size).
std::string checksum_combine(checksum_algorithm a, std::string_view crc_a, std::string_view crc_b,
                             uint64_t length_b);

class checksum_hasher {
 public:
  explicit checksum_hasher(checksum_algorithm a);
  ~checksum_hasher();
  checksum_hasher(checksum_hasher&&) noexcept;
  checksum_hasher& operator=(checksum_hasher&&) noexcept;

  checksum_algorithm algorithm() const { return algorithm_; }
  void update(std::string_view data);
  // The raw value; the hasher is reset afterwards.
  std::string finish();

 private:
  checksum_algorithm algorithm_;
  uint64_t crc_ = 0;
  std::unique_ptr<digest_hasher> digest_;  // SHA-1 and SHA-256
};

// The raw checksum of `data` in one call.
std::string compute_checksum(checksum_algorithm a, std::string_view data);

}  // namespace garage
