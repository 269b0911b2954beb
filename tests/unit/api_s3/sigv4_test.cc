#include "api/s3/sigv4.h"

#include <gtest/gtest.h>

#include "test_signer.h"

namespace garage::s3 {
namespace {

using namespace garage::s3::testing;

secret_lookup lookup_example() {
  return [](std::string_view id) -> std::optional<std::string> {
    if (id == k_akid) return std::string(k_secret);
    return std::nullopt;
  };
}

http::request_head make_head(std::string method, std::string target,
                             std::vector<std::pair<std::string, std::string>> headers) {
  http::request_head h;
  h.method = std::move(method);
  h.target = std::move(target);
  for (auto& [n, v] : headers) h.headers.add(n, v);
  return h;
}

// The "GET Object" example of the S3 SigV4 documentation (sig-v4-header-based-auth).
http::request_head aws_get_object() {
  return make_head(
      "GET", "/test.txt",
      {{"Host", "examplebucket.s3.amazonaws.com"},
       {"Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
       {"Range", "bytes=0-9"},
       {"x-amz-content-sha256", k_empty_sha},
       {"x-amz-date", "20130524T000000Z"}});
}

TEST(sigv4, aws_example_get_object) {
  auto r = verify_request(aws_get_object(), "us-east-1", lookup_example(), k_may24 + 60000);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->anonymous);
  EXPECT_EQ(r->access_key_id, k_akid);
  EXPECT_EQ(r->payload, payload_mode::signed_sha256);
  EXPECT_EQ(r->expected_sha256, k_empty_sha);
}

TEST(sigv4, aws_example_put_object_with_dollar_in_key) {
  auto h = make_head(
      "PUT", "/test%24file.text",
      {{"Host", "examplebucket.s3.amazonaws.com"},
       {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
       {"Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
        "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
       {"x-amz-date", "20130524T000000Z"},
       {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
       {"x-amz-content-sha256",
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"}});
  auto r = verify_request(h, "us-east-1", lookup_example(), k_may24);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->expected_sha256, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}

TEST(sigv4, aws_example_get_bucket_lifecycle) {
  auto h = make_head(
      "GET", "/?lifecycle",
      {{"Host", "examplebucket.s3.amazonaws.com"},
       {"Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
        "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
       {"x-amz-date", "20130524T000000Z"},
       {"x-amz-content-sha256", k_empty_sha}});
  auto r = verify_request(h, "us-east-1", lookup_example(), k_may24);
  ASSERT_TRUE(r) << r.error().message;
}

TEST(sigv4, aws_example_list_objects) {
  auto h = make_head(
      "GET", "/?max-keys=2&prefix=J",
      {{"Host", "examplebucket.s3.amazonaws.com"},
       {"Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
        "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
       {"x-amz-date", "20130524T000000Z"},
       {"x-amz-content-sha256", k_empty_sha}});
  auto r = verify_request(h, "us-east-1", lookup_example(), k_may24);
  ASSERT_TRUE(r) << r.error().message;
}

// The presigned URL example of the S3 SigV4 documentation (sigv4-query-string-auth).
http::request_head aws_presigned() {
  return make_head(
      "GET",
      "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%"
      "2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-"
      "SignedHeaders=host&X-Amz-Signature="
      "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
      {{"Host", "examplebucket.s3.amazonaws.com"}});
}

TEST(sigv4, aws_example_presigned_url) {
  auto r = verify_request(aws_presigned(), "us-east-1", lookup_example(), k_may24 + 3600000);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->presigned);
  EXPECT_EQ(r->payload, payload_mode::unsigned_payload);
  EXPECT_EQ(r->access_key_id, k_akid);
}

TEST(sigv4, presigned_url_expired) {
  auto r =
      verify_request(aws_presigned(), "us-east-1", lookup_example(), k_may24 + 86400000 + 1000);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::access_denied);
  EXPECT_EQ(r.error().message, "Request has expired");
  EXPECT_EQ(r.error().status(), 403u);
}

TEST(sigv4, presigned_url_not_valid_yet) {
  auto r = verify_request(aws_presigned(), "us-east-1", lookup_example(), k_may24 - 3600000);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::access_denied);
}

TEST(sigv4, presigned_url_expiry_over_a_week_is_rejected) {
  auto h = aws_presigned();
  h.target.replace(h.target.find("86400"), 5, "604801");
  auto r = verify_request(h, "us-east-1", lookup_example(), k_may24);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::authorization_query_parameters_error);
}

TEST(sigv4, presigned_url_tampered_query) {
  auto h = aws_presigned();
  h.target += "&response-content-type=text%2Fhtml";
  auto r = verify_request(h, "us-east-1", lookup_example(), k_may24);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::signature_does_not_match);
}

TEST(sigv4, wrong_secret) {
  auto lookup = [](std::string_view) -> std::optional<std::string> { return "not-the-secret"; };
  auto r = verify_request(aws_get_object(), "us-east-1", lookup, k_may24);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::signature_does_not_match);
  EXPECT_EQ(r.error().status(), 403u);
}

TEST(sigv4, unknown_key) {
  auto lookup = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  auto r = verify_request(aws_get_object(), "us-east-1", lookup, k_may24);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::invalid_access_key_id);
  EXPECT_EQ(r.error().status(), 403u);
}

TEST(sigv4, tampered_signed_header) {
  auto h = aws_get_object();
  h.headers.set("Range", "bytes=0-10");
  auto r = verify_request(h, "us-east-1", lookup_example(), k_may24);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::signature_does_not_match);
}

TEST(sigv4, tampered_path) {
  auto h = aws_get_object();
  h.target = "/test.txu";
  auto r = verify_request(h, "us-east-1", lookup_example(), k_may24);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::signature_does_not_match);
}

TEST(sigv4, unsigned_header_may_change) {
  auto h = aws_get_object();
  h.headers.add("User-Agent", "anything");
  EXPECT_TRUE(verify_request(h, "us-east-1", lookup_example(), k_may24));
}

TEST(sigv4, clock_skew) {
  auto lookup = lookup_example();
  EXPECT_TRUE(verify_request(aws_get_object(), "us-east-1", lookup, k_may24 + 14 * 60000));
  EXPECT_TRUE(verify_request(aws_get_object(), "us-east-1", lookup, k_may24 - 14 * 60000));
  for (int64_t off : {16 * 60000, -16 * 60000}) {
    auto r = verify_request(aws_get_object(), "us-east-1", lookup,
                            static_cast<uint64_t>(static_cast<int64_t>(k_may24) + off));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, s3_errc::request_time_too_skewed);
    EXPECT_EQ(r.error().status(), 403u);
  }
}

TEST(sigv4, wrong_region) {
  auto r = verify_request(aws_get_object(), "garage", lookup_example(), k_may24);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::authorization_header_malformed);
}

TEST(sigv4, anonymous) {
  auto h = make_head("GET", "/bucket/key", {{"Host", "localhost"}});
  auto r = verify_request(h, "garage", lookup_example(), k_may24);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->anonymous);
  EXPECT_TRUE(r->access_key_id.empty());
}

TEST(sigv4, v2_signature_is_refused) {
  auto h = make_head("GET", "/bucket/key", {{"Authorization", "AWS AKID:c2lnbmF0dXJl"}});
  auto r = verify_request(h, "garage", lookup_example(), k_may24);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::invalid_request);
}

TEST(sigv4, missing_content_sha256) {
  auto h = aws_get_object();
  h.headers.erase("x-amz-content-sha256");
  auto r = verify_request(h, "us-east-1", lookup_example(), k_may24);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::invalid_request);
}

TEST(sigv4, parse_authorization_header_forms) {
  auto a = parse_authorization_header(
      "AWS4-HMAC-SHA256 Credential=AK/20240101/garage/s3/aws4_request, "
      "SignedHeaders=host;x-amz-date,  Signature=" +
      std::string(64, 'a'));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->access_key_id, "AK");
  EXPECT_EQ(a->region, "garage");
  EXPECT_EQ(a->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  const std::string sig = std::string(64, 'a');
  for (std::string bad : std::vector<std::string>{
           "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=AK/20240101/garage/s3/aws4_request",
           "AWS4-HMAC-SHA256 Credential=AK/2024/garage/s3/aws4_request, SignedHeaders=host, "
           "Signature=" +
               std::string(64, 'a'),
           "AWS4-HMAC-SHA256 Credential=AK/20240101/garage/s3/aws4_request, SignedHeaders=Host, "
           "Signature=" +
               std::string(64, 'a'),
           "AWS4-HMAC-SHA256 Credential=AK/20240101/garage/s3/aws4_request, SignedHeaders=host, "
           "Signature=xyz",
           "AWS4-HMAC-SHA256 Credential=AK/20240101/garage/s3/other, SignedHeaders=host, "
           "Signature=" +
               std::string(64, 'a')}) {
    auto r = parse_authorization_header(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, s3_errc::authorization_header_malformed);
  }
}

TEST(sigv4, canonical_uri_does_not_double_encode) {
  EXPECT_EQ(*canonical_uri("/bucket/a%20b"), "/bucket/a%20b");
  EXPECT_EQ(*canonical_uri("/bucket/a+b"), "/bucket/a%2Bb");
  EXPECT_EQ(*canonical_uri("/bucket/a%2bb"), "/bucket/a%2Bb");
  EXPECT_EQ(*canonical_uri("/bucket/100%25"), "/bucket/100%25");
  EXPECT_EQ(*canonical_uri("/bucket/k=v"), "/bucket/k%3Dv");
  EXPECT_EQ(*canonical_uri("/bucket/%C3%A9t%C3%A9"), "/bucket/%C3%A9t%C3%A9");
  EXPECT_EQ(*canonical_uri("/bucket/a%2Fb//c/"), "/bucket/a%2Fb//c/");
  EXPECT_EQ(*canonical_uri(""), "/");
  EXPECT_FALSE(canonical_uri("/bucket/%zz"));
}

TEST(sigv4, canonical_query_sorted_and_encoded) {
  EXPECT_EQ(*canonical_query("prefix=J&max-keys=2", false), "max-keys=2&prefix=J");
  EXPECT_EQ(*canonical_query("uploads", false), "uploads=");
  EXPECT_EQ(*canonical_query("a=2&a=1&b", false), "a=1&a=2&b=");
  EXPECT_EQ(*canonical_query("prefix=a%20b%2Fc", false), "prefix=a%20b%2Fc");
  EXPECT_EQ(*canonical_query("prefix=a+b", false), "prefix=a%20b");
  EXPECT_EQ(*canonical_query("prefix=a+b", false, false), "prefix=a%2Bb");
  EXPECT_EQ(*canonical_query("X-Amz-Signature=abc&x=1", true), "x=1");
}

TEST(sigv4, canonical_headers_trim_and_collapse) {
  http::header_map h;
  h.add("Host", "  example.com ");
  h.add("My-Header", "a   b    c");
  h.add("my-header", "d");
  auto c = canonical_headers(h, {"host", "my-header"});
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, "host:example.com\nmy-header:a b c,d\n");
  EXPECT_FALSE(canonical_headers(h, {"host", "x-amz-date"}));
}

// Keys as awscli/boto3/rclone send them: every byte outside the unreserved set
// percent-encoded in the path. The verifier must agree with that signing.
TEST(sigv4, keys_with_special_characters) {
  for (std::string key : {"a b", "a+b", "100%", "k=v", "\xc3\xa9t\xc3\xa9/\xe6\x97\xa5.txt",
                          "dir/sub dir/file(1).txt", "~tilde_-.", "a&b?c#d", "semi;colon"}) {
    std::string target = "/bucket/" + uri_encode(key, true) + "?tagging";
    auto h = make_head("PUT", target,
                       {{"Host", "127.0.0.1:3900"},
                        {"x-amz-date", "20130524T000000Z"},
                        {"x-amz-content-sha256", k_empty_sha}});
    h.headers.add("Authorization",
                  sign_header(h, "20130524T000000Z", {"host", "x-amz-content-sha256", "x-amz-date"},
                              k_empty_sha));
    auto r = verify_request(h, "us-east-1", lookup_example(), k_may24);
    EXPECT_TRUE(r) << key << ": " << (r ? "" : r.error().message);
  }
}

TEST(sigv4, streaming_modes) {
  struct mode_case {
    const char* value;
    payload_mode mode;
  } cases[] = {
      {"UNSIGNED-PAYLOAD", payload_mode::unsigned_payload},
      {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", payload_mode::streaming_signed},
      {"STREAMING-UNSIGNED-PAYLOAD-TRAILER", payload_mode::streaming_unsigned_trailer},
      {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", payload_mode::streaming_signed_trailer},
  };
  for (auto& c : cases) {
    auto h = make_head("PUT", "/bucket/key",
                       {{"Host", "localhost"},
                        {"x-amz-date", "20130524T000000Z"},
                        {"x-amz-content-sha256", c.value},
                        {"x-amz-decoded-content-length", "66560"},
                        {"x-amz-trailer", "x-amz-checksum-crc32"}});
    std::string auth =
        sign_header(h, "20130524T000000Z", {"host", "x-amz-content-sha256", "x-amz-date"}, c.value);
    h.headers.add("Authorization", auth);
    auto r = verify_request(h, "us-east-1", lookup_example(), k_may24);
    ASSERT_TRUE(r) << c.value;
    EXPECT_EQ(r->payload, c.mode);
    EXPECT_TRUE(r->expected_sha256.empty());
    if (c.mode != payload_mode::unsigned_payload) {
      EXPECT_EQ(r->streaming.seed_signature, auth.substr(auth.size() - 64));
      EXPECT_EQ(r->streaming.scope, "20130524/us-east-1/s3/aws4_request");
      EXPECT_EQ(r->streaming.amz_date, "20130524T000000Z");
      EXPECT_EQ(r->streaming.signing_key.size(), 32u);
      EXPECT_EQ(r->decoded_content_length, 66560u);
      EXPECT_EQ(r->trailer, "x-amz-checksum-crc32");
    }
  }
  auto h = make_head("PUT", "/bucket/key",
                     {{"Host", "localhost"},
                      {"x-amz-date", "20130524T000000Z"},
                      {"x-amz-content-sha256", "garbage"}});
  h.headers.add("Authorization", sign_header(h, "20130524T000000Z", {"host"}, "garbage"));
  auto r = verify_request(h, "us-east-1", lookup_example(), k_may24);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::invalid_argument);
}

TEST(sigv4, signing_key_cache_matches_derivation) {
  signing_key_cache cache(2);
  for (int i = 0; i < 5; ++i) {
    std::string region = "r" + std::to_string(i % 3);
    EXPECT_EQ(cache.get(k_secret, "20130524", region),
              derive_signing_key(k_secret, "20130524", region));
  }
  auto r = verify_request(aws_get_object(), "us-east-1", lookup_example(), k_may24, &cache);
  EXPECT_TRUE(r);
}

TEST(sigv4, constant_time_equals) {
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "abcd"));
}

}  // namespace
}  // namespace garage::s3
