// Robustness: thousands of random and mutated inputs through every parser that
// reads bytes from the network. Each must return a value or an S3 error, never
// crash, hang or break its own invariants. Seeds are fixed: failures replay.
#include <gtest/gtest.h>

#include <random>

#include "api/s3/chunked_decoder.h"
#include "api/s3/range.h"
#include "api/s3/router.h"
#include "api/s3/s3_xml.h"
#include "api/s3/sigv4.h"
#include "test_signer.h"

namespace garage::s3 {
namespace {

using namespace garage::s3::testing;

class mutator {
 public:
  explicit mutator(uint32_t seed) : rng_(seed) {}

  size_t below(size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }

  std::string random_bytes(size_t max_len, std::string_view alphabet = {}) {
    std::string s(below(max_len + 1), '\0');
    for (auto& c : s)
      c = alphabet.empty() ? static_cast<char>(below(256)) : alphabet[below(alphabet.size())];
    return s;
  }

  // Flips, inserts, deletes or duplicates a few bytes of `s`.
  std::string mutate(std::string s) {
    size_t n = 1 + below(4);
    for (size_t i = 0; i < n; ++i) {
      size_t pos = below(s.size() + 1);
      switch (below(5)) {
        case 0:
          if (pos < s.size()) s[pos] = static_cast<char>(below(256));
          break;
        case 1:
          s.insert(pos, 1, k_interesting[below(sizeof k_interesting - 1)]);
          break;
        case 2:
          if (pos < s.size()) s.erase(pos, 1 + below(8));
          break;
        case 3:
          if (pos < s.size()) s.insert(pos, s.substr(pos, below(16)));
          break;
        case 4:
          s = s.substr(0, pos);
          break;
      }
    }
    return s;
  }

 private:
  static constexpr char k_interesting[] = "%/?&=;:,-\r\n\"<>&0123456789abcdefxX* \t+";
  std::mt19937 rng_;
};

TEST(fuzz, router) {
  mutator m(1);
  const char* seeds[] = {"/bucket/key?uploadId=x&partNumber=3",
                         "/b/%20a%2F?list-type=2&prefix=", "/?location", "/b/k?tagging&versionId=1",
                         "/"};
  const char* methods[] = {"GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH", ""};
  for (int i = 0; i < 20000; ++i) {
    http::request_head h;
    h.method = methods[m.below(8)];
    h.target = i % 4 == 0 ? m.random_bytes(64) : m.mutate(seeds[m.below(5)]);
    h.headers.add("Host", m.mutate("bucket.s3.garage.localhost:3900"));
    if (i % 3 == 0) h.headers.add("x-amz-copy-source", m.random_bytes(20));
    if (i % 5 == 0) h.headers.add("Content-Type", "multipart/form-data");
    auto r = route_request(h, ".s3.garage.localhost");
    if (r) {
      EXPECT_LE(r->key.size(), 1024u);
      EXPECT_NE(endpoint_name(r->kind), nullptr);
      if (!r->key.empty()) {
        EXPECT_FALSE(r->bucket.empty());
      }
    } else {
      EXPECT_GE(r.error().status(), 400u);
    }
    (void)is_valid_bucket_name(h.target);
    (void)parse_copy_source(h.target);
  }
}

TEST(fuzz, authorization_header_and_verifier) {
  mutator m(2);
  std::string good =
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
      "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
  auto lookup = [](std::string_view id) -> std::optional<std::string> {
    if (id == k_akid) return std::string(k_secret);
    return std::nullopt;
  };
  int accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string value = m.mutate(good);
    (void)parse_authorization_header(value);
    http::request_head h;
    h.method = "GET";
    h.target = i % 2 ? "/test.txt"
                     : m.mutate(
                           "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
                           "X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%"
                           "2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-"
                           "Expires=86400&X-Amz-SignedHeaders=host&X-Amz-"
                           "Signature=00");
    h.headers.add("Host", "examplebucket.s3.amazonaws.com");
    if (i % 2) h.headers.add("Authorization", value);
    h.headers.add("Range", "bytes=0-9");
    h.headers.add("x-amz-content-sha256", k_empty_sha);
    h.headers.add("x-amz-date", i % 7 ? "20130524T000000Z" : m.mutate("20130524T000000Z"));
    auto r = verify_request(h, "us-east-1", lookup, k_may24);
    if (r && !r->anonymous) ++accepted;
    if (!r) {
      EXPECT_GE(r.error().status(), 400u);
    }
  }
  // A mutated signed request must essentially never verify (only mutations
  // outside the signed material, e.g. extra separators, may).
  EXPECT_LT(accepted, 250);
}

TEST(fuzz, chunked_decoder) {
  mutator m(3);
  streaming_context ctx{derive_signing_key(k_secret, "20130524", "us-east-1"),
                        "20130524/us-east-1/s3/aws4_request", "20130524T000000Z",
                        std::string(64, '0')};
  std::string data = "hello world";
  std::string s1 = chunk_signature(ctx, ctx.seed_signature, hex_encode(sha256(data)));
  std::string s2 = chunk_signature(ctx, s1, k_empty_sha);
  std::string signed_body =
      "b;chunk-signature=" + s1 + "\r\n" + data + "\r\n0;chunk-signature=" + s2 + "\r\n\r\n";
  std::string unsigned_body = "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n";
  for (int i = 0; i < 10000; ++i) {
    bool is_signed = i % 2 == 0;
    std::string body = i % 10 == 9 ? m.random_bytes(200, "0123456789abcdef;=\r\n:x")
                                   : m.mutate(is_signed ? signed_body : unsigned_body);
    chunked_decoder d(
        is_signed ? payload_mode::streaming_signed : payload_mode::streaming_unsigned_trailer, ctx,
        1 << 20);
    std::string out;
    bool failed = false;
    for (size_t pos = 0; pos < body.size() && !failed;) {
      size_t step = 1 + m.below(16);
      auto r = d.feed(std::string_view(body).substr(pos, step));
      pos += step;
      if (!r) {
        failed = true;
        EXPECT_GE(r.error().status(), 400u);
      } else {
        out += *r;
      }
    }
    EXPECT_EQ(out.size(), d.decoded_size());
    auto f = d.finish();
    // Signed data that came out intact must be the original data.
    if (!failed && f && is_signed) {
      EXPECT_EQ(out, data) << body;
    }
  }
}

TEST(fuzz, range) {
  mutator m(4);
  for (int i = 0; i < 20000; ++i) {
    std::string h =
        i % 3 == 0 ? m.random_bytes(24, "bytes=-,0123456789 ") : m.mutate("bytes=10-20");
    uint64_t size = m.below(4) == 0 ? 0 : m.below(1000);
    auto r = parse_range(h, size);
    if (!r) {
      EXPECT_EQ(r.error().code, s3_errc::invalid_range);
    } else if (*r) {
      EXPECT_GT((*r)->length, 0u);
      EXPECT_LE((*r)->start + (*r)->length, size);
    }
  }
}

TEST(fuzz, xml_parsers) {
  mutator m(5);
  std::string del =
      "<?xml version=\"1.0\"?><Delete><Object><Key>a&amp;b</Key><VersionId>v</VersionId>"
      "</Object><Quiet>false</Quiet></Delete>";
  std::string cbc =
      "<CreateBucketConfiguration><LocationConstraint>garage</LocationConstraint>"
      "</CreateBucketConfiguration>";
  for (int i = 0; i < 10000; ++i) {
    auto d = parse_delete_request(i % 10 == 0 ? m.random_bytes(100) : m.mutate(del));
    if (d) {
      EXPECT_GE(d->objects.size(), 1u);
      EXPECT_LE(d->objects.size(), 1000u);
    } else {
      EXPECT_EQ(d.error().code, s3_errc::malformed_xml);
    }
    auto c = parse_create_bucket_configuration(m.mutate(cbc));
    if (!c) {
      EXPECT_EQ(c.error().code, s3_errc::malformed_xml);
    }
    // Whatever the text, the escaped form parses back to it (control characters aside).
    std::string text = m.random_bytes(20, "abc<>&\"' \xc3\xa9");
    auto back = parse_delete_request("<Delete><Object><Key>" + xml_escape(text) +
                                     "</Key></Object></Delete>");
    ASSERT_TRUE(back);
    // Invalid UTF-8 fragments aside, the key round-trips.
    if (back->objects[0].key != text) {
      EXPECT_NE(text.find('\xc3'), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace garage::s3
