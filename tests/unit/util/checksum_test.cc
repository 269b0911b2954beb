// util/checksum: CRC32, CRC32C, CRC64NVME and SHA-1 against published check
// values, the sliced CRCs against a bit-by-bit reference, streaming against
// one-shot, and CRC combination against the CRC of the concatenation.
#include "util/checksum.h"

#include <gtest/gtest.h>

#include <random>

#include "util/encoding.h"

namespace garage {
namespace {

// Bit-at-a-time reflected CRC with init = xorout = all ones.
uint64_t reference_crc(uint64_t poly, int width, std::string_view data) {
  uint64_t mask = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  uint64_t reg = mask;
  for (unsigned char c : data) {
    reg ^= c;
    for (int b = 0; b < 8; ++b) reg = (reg & 1) ? (reg >> 1) ^ poly : reg >> 1;
  }
  return reg ^ mask;
}

std::string random_data(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(checksum, crc_check_values) {
  // The "check" value of each CRC catalogue entry: the CRC of "123456789".
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc64nvme("123456789"), 0xAE8B14860A799888ull);
  EXPECT_EQ(crc32(""), 0u);
  EXPECT_EQ(crc32c(""), 0u);
  EXPECT_EQ(crc64nvme(""), 0u);
  EXPECT_EQ(crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
}

TEST(checksum, crc32c_rfc3720_vectors) {
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string inc;
  for (int i = 0; i < 32; ++i) inc.push_back(static_cast<char>(i));
  EXPECT_EQ(crc32c(inc), 0x46DD794Eu);
}

TEST(checksum, sliced_crcs_match_bitwise_reference) {
  for (size_t n : {1u, 7u, 8u, 9u, 15u, 16u, 17u, 100u, 1000u, 4099u}) {
    auto d = random_data(n, static_cast<unsigned>(n));
    EXPECT_EQ(crc32(d), reference_crc(0xEDB88320u, 32, d)) << n;
    EXPECT_EQ(crc32c(d), reference_crc(0x82F63B78u, 32, d)) << n;
    EXPECT_EQ(crc64nvme(d), reference_crc(0x9A6C9329AC4BC9B5ull, 64, d)) << n;
  }
}

TEST(checksum, s3_encoded_values) {
  // Raw values are big-endian; S3 sends them in base64.
  EXPECT_EQ(base64_encode(compute_checksum(checksum_algorithm::crc32, "123456789")), "y/Q5Jg==");
  EXPECT_EQ(hex_encode(compute_checksum(checksum_algorithm::crc32c, "123456789")), "e3069283");
  EXPECT_EQ(hex_encode(compute_checksum(checksum_algorithm::crc64nvme, "123456789")),
            "ae8b14860a799888");
  EXPECT_EQ(hex_encode(compute_checksum(checksum_algorithm::sha1, "abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex_encode(compute_checksum(checksum_algorithm::sha1, "")),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex_encode(compute_checksum(checksum_algorithm::sha256, "abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(base64_encode(compute_checksum(checksum_algorithm::crc32, "")), "AAAAAA==");
}

TEST(checksum, streaming_equals_one_shot) {
  auto d = random_data(10000, 3);
  for (auto a :
       {checksum_algorithm::crc32, checksum_algorithm::crc32c, checksum_algorithm::crc64nvme,
        checksum_algorithm::sha1, checksum_algorithm::sha256}) {
    checksum_hasher h(a);
    for (size_t pos = 0; pos < d.size(); pos += 333) h.update(std::string_view(d).substr(pos, 333));
    auto got = h.finish();
    EXPECT_EQ(got, compute_checksum(a, d)) << checksum_name(a);
    EXPECT_EQ(got.size(), checksum_size(a));
    // Reset after finish.
    h.update("abc");
    EXPECT_EQ(h.finish(), compute_checksum(a, "abc"));
  }
}

TEST(checksum, combine_equals_crc_of_concatenation) {
  for (auto a :
       {checksum_algorithm::crc32, checksum_algorithm::crc32c, checksum_algorithm::crc64nvme}) {
    for (auto [na, nb] :
         {std::pair<size_t, size_t>{0, 5}, {5, 0}, {1, 1}, {100, 3000}, {4096, 65537}}) {
      auto x = random_data(na, 1);
      auto y = random_data(nb, 2);
      EXPECT_EQ(checksum_combine(a, compute_checksum(a, x), compute_checksum(a, y), nb),
                compute_checksum(a, x + y))
          << checksum_name(a) << " " << na << "+" << nb;
    }
  }
  EXPECT_EQ(checksum_combine(checksum_algorithm::sha256, "a", "b", 1), "");
  EXPECT_EQ(checksum_combine(checksum_algorithm::crc32, "abc", "abcd", 1), "");
}

TEST(checksum, names) {
  EXPECT_EQ(parse_checksum_name("crc32"), checksum_algorithm::crc32);
  EXPECT_EQ(parse_checksum_name("CRC32C"), checksum_algorithm::crc32c);
  EXPECT_EQ(parse_checksum_name("Crc64Nvme"), checksum_algorithm::crc64nvme);
  EXPECT_EQ(parse_checksum_name("SHA1"), checksum_algorithm::sha1);
  EXPECT_EQ(parse_checksum_name("sha256"), checksum_algorithm::sha256);
  EXPECT_EQ(parse_checksum_name("md5"), std::nullopt);
  EXPECT_EQ(parse_checksum_name(""), std::nullopt);
  EXPECT_EQ(checksum_name(checksum_algorithm::crc64nvme), "CRC64NVME");
}

}  // namespace
}  // namespace garage
