// AES-256-GCM sealing: round trips, a fresh nonce each time, and every kind
// of tampering (wrong key, flipped ciphertext/tag/nonce bit, truncation) caught.
#include "util/aes_gcm.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "util/encoding.h"

namespace garage {
namespace {

const std::string kKey(32, '\x42');

TEST(aes_gcm, round_trip_of_several_sizes) {
  for (size_t n : {0, 1, 15, 16, 17, 4096, 1 << 20}) {
    std::string plain(n, '\0');
    for (size_t i = 0; i < n; ++i) plain[i] = static_cast<char>(i * 7);
    auto sealed = aes256gcm_seal(kKey, plain);
    ASSERT_TRUE(sealed.has_value());
    EXPECT_EQ(sealed->size(), n + kAesGcmOverhead);
    if (n >= 16) {
      EXPECT_EQ(sealed->find(plain.substr(0, 16)), std::string::npos);
    }
    auto opened = aes256gcm_open(kKey, *sealed);
    ASSERT_TRUE(opened.has_value()) << opened.error().to_string();
    EXPECT_EQ(*opened, plain);
  }
}

TEST(aes_gcm, each_seal_uses_a_new_nonce) {
  auto a = aes256gcm_seal(kKey, "same data");
  auto b = aes256gcm_seal(kKey, "same data");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_NE(a->substr(1, 12), b->substr(1, 12));
}

// A known answer from the standard cipher, so the format is AES-256-GCM and
// not something that merely round-trips.
TEST(aes_gcm, matches_openssl_for_the_stored_nonce) {
  auto sealed = aes256gcm_seal(kKey, "hello world");
  ASSERT_TRUE(sealed);
  std::string nonce = sealed->substr(1, 12);
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  unsigned char out[64];
  int len = 0;
  ASSERT_EQ(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), nullptr,
                               reinterpret_cast<const unsigned char*>(kKey.data()),
                               reinterpret_cast<const unsigned char*>(nonce.data())),
            1);
  ASSERT_EQ(
      EVP_EncryptUpdate(c, out, &len, reinterpret_cast<const unsigned char*>("hello world"), 11),
      1);
  EVP_CIPHER_CTX_free(c);
  EXPECT_EQ(sealed->substr(13, 11), std::string(reinterpret_cast<char*>(out), 11));
}

TEST(aes_gcm, wrong_key_is_permission_denied) {
  auto sealed = aes256gcm_seal(kKey, "secret");
  ASSERT_TRUE(sealed);
  auto opened = aes256gcm_open(std::string(32, '\x43'), *sealed);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, errc::permission_denied);
}

TEST(aes_gcm, any_flipped_bit_is_detected) {
  auto sealed = aes256gcm_seal(kKey, "some block of data");
  ASSERT_TRUE(sealed);
  for (size_t i = 1; i < sealed->size(); ++i) {  // nonce, ciphertext and tag
    std::string bad = *sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto opened = aes256gcm_open(kKey, bad);
    ASSERT_FALSE(opened) << "byte " << i;
    EXPECT_EQ(opened.error().code, errc::permission_denied);
  }
}

TEST(aes_gcm, malformed_values_and_keys) {
  auto sealed = aes256gcm_seal(kKey, "x");
  ASSERT_TRUE(sealed);
  EXPECT_EQ(aes256gcm_open(kKey, sealed->substr(0, kAesGcmOverhead - 1)).error().code,
            errc::corrupted);
  std::string other_version = *sealed;
  other_version[0] = 9;
  EXPECT_EQ(aes256gcm_open(kKey, other_version).error().code, errc::corrupted);
  EXPECT_EQ(aes256gcm_open(kKey, sealed->substr(0, sealed->size() - 1)).error().code,
            errc::permission_denied);
  EXPECT_EQ(aes256gcm_seal("short", "x").error().code, errc::invalid_argument);
  EXPECT_EQ(aes256gcm_open("short", *sealed).error().code, errc::invalid_argument);
}

}  // namespace
}  // namespace garage
