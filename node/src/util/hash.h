// Hashes used by the node: BLAKE2b-256 for block ids and partition keys,
// SHA-256, MD5 and HMAC-SHA256 for S3. All functions are thread-safe; hasher
// objects are not (one per stream).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace garage {

// A 32-byte digest, used as an identifier (block id, partition key hash).
struct hash256 {
  std::array<uint8_t, 32> bytes{};

  std::string hex() const;
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
  // Parses 64 hex digits; false on anything else.
  static bool from_hex(std::string_view hex, hash256& out);
  static hash256 from_raw(std::string_view raw32);
  auto operator<=>(const hash256&) const = default;
};

hash256 blake2b_256(std::string_view data);
std::string sha256(std::string_view data);                             // 32 raw bytes
std::string md5(std::string_view data);                                // 16 raw bytes
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes

// Incremental hashers, for data that streams through.
class blake2b_256_hasher {
 public:
  blake2b_256_hasher();
  ~blake2b_256_hasher();
  void update(std::string_view data);
  hash256 finish();

 private:
  struct rep;
  std::unique_ptr<rep> rep_;
};

// kind: "SHA256", "MD5", "SHA1" (OpenSSL digest names).
class digest_hasher {
 public:
  explicit digest_hasher(const char* kind);
  ~digest_hasher();
  digest_hasher(digest_hasher&&) noexcept;
  digest_hasher& operator=(digest_hasher&&) noexcept;
  void update(std::string_view data);
  std::string finish();  // raw digest; the hasher is reset afterwards

 private:
  struct rep;
  std::unique_ptr<rep> rep_;
};

}  // namespace garage
