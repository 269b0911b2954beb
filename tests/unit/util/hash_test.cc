// util/hash: digests against published test vectors, and incremental hashers
// against the one-shot functions.
#include "util/hash.h"

#include <gtest/gtest.h>

#include "util/encoding.h"

namespace garage {
namespace {

TEST(hash, blake2b_256_vectors) {
  EXPECT_EQ(blake2b_256("").hex(),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_EQ(blake2b_256("abc").hex(),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(hash, sha256_md5_hmac_vectors) {
  EXPECT_EQ(hex_encode(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_encode(sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex_encode(md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(hex_encode(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  // RFC 4231, test case 2.
  EXPECT_EQ(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(hash, incremental_matches_one_shot) {
  std::string data;
  for (int i = 0; i < 10000; ++i) data.push_back(static_cast<char>(i * 31));
  blake2b_256_hasher b;
  digest_hasher s("SHA256"), m("MD5");
  for (size_t i = 0; i < data.size(); i += 777) {
    auto piece = std::string_view(data).substr(i, 777);
    b.update(piece);
    s.update(piece);
    m.update(piece);
  }
  EXPECT_EQ(b.finish(), blake2b_256(data));
  EXPECT_EQ(s.finish(), sha256(data));
  EXPECT_EQ(m.finish(), md5(data));
  // Reset after finish.
  s.update("abc");
  EXPECT_EQ(s.finish(), sha256("abc"));
}

TEST(hash, hash256_hex_round_trip) {
  hash256 h = blake2b_256("x");
  hash256 back;
  ASSERT_TRUE(hash256::from_hex(h.hex(), back));
  EXPECT_EQ(back, h);
  EXPECT_EQ(hash256::from_raw(h.view()), h);
  EXPECT_FALSE(hash256::from_hex("abcd", back));
  EXPECT_FALSE(hash256::from_hex(std::string(64, 'g'), back));
  EXPECT_NE(blake2b_256("x"), blake2b_256("y"));
}

}  // namespace
}  // namespace garage
