#include "api/s3/chunked_decoder.h"

#include <gtest/gtest.h>

#include "test_signer.h"

namespace garage::s3 {
namespace {

using namespace garage::s3::testing;

constexpr const char* k_seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
constexpr const char* k_sig1 = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
constexpr const char* k_sig2 = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
constexpr const char* k_sig3 = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";

// The "PUT examplebucket/chunkObject.txt" example of the S3 SigV4 streaming
// documentation: 64 KiB then 1 KiB of 'a'.
http::request_head aws_chunked_put() {
  http::request_head h;
  h.method = "PUT";
  h.target = "/examplebucket/chunkObject.txt";
  h.headers.add("Host", "s3.amazonaws.com");
  h.headers.add("x-amz-date", "20130524T000000Z");
  h.headers.add("x-amz-storage-class", "REDUCED_REDUNDANCY");
  h.headers.add("Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                "aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-"
                "sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=" +
                    std::string(k_seed));
  h.headers.add("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
  h.headers.add("Content-Encoding", "aws-chunked");
  h.headers.add("x-amz-decoded-content-length", "66560");
  h.headers.add("Content-Length", "66824");
  return h;
}

std::string aws_chunked_body() {
  return "10000;chunk-signature=" + std::string(k_sig1) + "\r\n" + std::string(65536, 'a') +
         "\r\n400;chunk-signature=" + k_sig2 + "\r\n" + std::string(1024, 'a') +
         "\r\n0;chunk-signature=" + k_sig3 + "\r\n\r\n";
}

secret_lookup lookup_example() {
  return [](std::string_view) -> std::optional<std::string> { return std::string(k_secret); };
}

streaming_context example_context() {
  auto r = verify_request(aws_chunked_put(), "us-east-1", lookup_example(), k_may24);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? r->streaming : streaming_context{};
}

// Feeds `body` in pieces of `step` bytes; returns the decoded data or the error.
s3_result<std::string> decode(chunked_decoder& d, std::string_view body, size_t step) {
  std::string out;
  for (size_t i = 0; i < body.size(); i += step) {
    auto r = d.feed(body.substr(i, step));
    if (!r) return std::move(r).error();
    out += *r;
  }
  auto f = d.finish();
  if (!f) return std::move(f).error();
  return out;
}

TEST(chunked_decoder, aws_example_seed_signature) {
  auto r = verify_request(aws_chunked_put(), "us-east-1", lookup_example(), k_may24);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->payload, payload_mode::streaming_signed);
  EXPECT_EQ(r->decoded_content_length, 66560u);
  EXPECT_EQ(r->streaming.seed_signature, k_seed);
}

TEST(chunked_decoder, aws_example_chunk_signatures) {
  auto ctx = example_context();
  std::string s1 = chunk_signature(ctx, k_seed, hex_encode(sha256(std::string(65536, 'a'))));
  EXPECT_EQ(s1, k_sig1);
  std::string s2 = chunk_signature(ctx, s1, hex_encode(sha256(std::string(1024, 'a'))));
  EXPECT_EQ(s2, k_sig2);
  EXPECT_EQ(chunk_signature(ctx, s2, k_empty_sha), k_sig3);
}

TEST(chunked_decoder, aws_example_body_in_any_split) {
  std::string body = aws_chunked_body();
  ASSERT_EQ(body.size(), 66824u);
  for (size_t step : {size_t{1}, size_t{7}, size_t{4096}, size_t{65536}, body.size()}) {
    chunked_decoder d(payload_mode::streaming_signed, example_context());
    auto r = decode(d, body, step);
    ASSERT_TRUE(r) << "step " << step << ": " << r.error().message;
    EXPECT_EQ(*r, std::string(66560, 'a'));
    EXPECT_EQ(d.decoded_size(), 66560u);
    EXPECT_TRUE(d.done());
  }
}

TEST(chunked_decoder, bad_chunk_signature) {
  std::string body = aws_chunked_body();
  body[body.find(k_sig2) + 3] ^= 1;
  chunked_decoder d(payload_mode::streaming_signed, example_context());
  auto r = decode(d, body, 1000);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::signature_does_not_match);
  // The decoder stays failed.
  EXPECT_FALSE(d.feed("x"));
}

TEST(chunked_decoder, tampered_chunk_data) {
  std::string body = aws_chunked_body();
  body[200] = 'b';
  chunked_decoder d(payload_mode::streaming_signed, example_context());
  auto r = decode(d, body, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::signature_does_not_match);
}

TEST(chunked_decoder, reordered_chunks_fail) {
  // Chunk 2 alone, signed as if it followed the seed: the chain is broken.
  std::string body =
      "400;chunk-signature=" + std::string(k_sig2) + "\r\n" + std::string(1024, 'a') + "\r\n";
  chunked_decoder d(payload_mode::streaming_signed, example_context());
  auto r = d.feed(body);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::signature_does_not_match);
}

TEST(chunked_decoder, no_data_before_verification) {
  chunked_decoder d(payload_mode::streaming_signed, example_context());
  std::string body = aws_chunked_body();
  auto r = d.feed(body.substr(0, 60000));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
}

TEST(chunked_decoder, truncated_body_is_incomplete) {
  std::string body = aws_chunked_body();
  for (size_t cut : {size_t{0}, size_t{10}, size_t{5000}, body.size() - 1}) {
    chunked_decoder d(payload_mode::streaming_signed, example_context());
    auto r = decode(d, body.substr(0, cut), 999);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, s3_errc::incomplete_body) << cut;
  }
}

TEST(chunked_decoder, malformed_framing) {
  for (std::string body : {std::string("zz;chunk-signature=abc\r\n"),
                           std::string("5;chunk-signature=") + std::string(64, '0') + "\n",
                           std::string("5\r\nhello\r\n"), std::string(5000, '1')}) {
    chunked_decoder d(payload_mode::streaming_signed, example_context());
    auto r = d.feed(body);
    ASSERT_FALSE(r) << body.substr(0, 40);
    EXPECT_EQ(r.error().code, s3_errc::invalid_request);
  }
  chunked_decoder big(payload_mode::streaming_unsigned_trailer, {}, 1024);
  auto r = big.feed("801\r\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::entity_too_large);
}

TEST(chunked_decoder, data_after_end_is_an_error) {
  chunked_decoder d(payload_mode::streaming_signed, example_context());
  auto r = d.feed(aws_chunked_body() + "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::invalid_request);
}

TEST(chunked_decoder, unsigned_trailer_byte_by_byte) {
  std::string body = "5\r\nhello\r\nb\r\n, world!!!!\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
  chunked_decoder d(payload_mode::streaming_unsigned_trailer, {});
  auto r = decode(d, body, 1);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "hello, world!!!!");
  ASSERT_EQ(d.trailers().size(), 1u);
  EXPECT_EQ(d.trailers()[0].first, "x-amz-checksum-crc32");
  EXPECT_EQ(d.trailers()[0].second, "AAAAAA==");
}

TEST(chunked_decoder, unsigned_trailer_without_final_empty_line) {
  std::string body = "3\r\nabc\r\n0\r\nx-amz-checksum-crc32c:sOO8/Q==\r\n";
  chunked_decoder d(payload_mode::streaming_unsigned_trailer, {});
  auto r = decode(d, body, 3);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "abc");
  EXPECT_EQ(d.trailers().size(), 1u);
}

TEST(chunked_decoder, unsigned_without_trailer) {
  chunked_decoder d(payload_mode::streaming_unsigned_trailer, {});
  auto r = decode(d, "3\r\nabc\r\n0\r\n\r\n", 2);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "abc");
  EXPECT_TRUE(d.trailers().empty());
}

// Builds a signed-trailer body with the chain computed from the example context.
std::string signed_trailer_body(const streaming_context& ctx, std::string_view data,
                                std::string_view trailer_value, bool break_trailer_sig) {
  std::string hash = hex_encode(sha256(data));
  std::string s1 = chunk_signature(ctx, ctx.seed_signature, hash);
  std::string s2 = chunk_signature(ctx, s1, k_empty_sha);
  std::string trailer = "x-amz-checksum-crc32:" + std::string(trailer_value) + "\n";
  std::string ts = trailer_signature(ctx, s2, trailer);
  if (break_trailer_sig) ts[0] = ts[0] == '0' ? '1' : '0';
  char size[16];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return std::string(size) + ";chunk-signature=" + s1 + "\r\n" + std::string(data) +
         "\r\n0;chunk-signature=" + s2 + "\r\nx-amz-checksum-crc32:" + std::string(trailer_value) +
         "\r\nx-amz-trailer-signature:" + ts + "\r\n\r\n";
}

TEST(chunked_decoder, signed_trailer) {
  auto ctx = example_context();
  std::string body = signed_trailer_body(ctx, "some data", "AAAAAA==", false);
  chunked_decoder d(payload_mode::streaming_signed_trailer, ctx);
  auto r = decode(d, body, 1);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "some data");
  ASSERT_EQ(d.trailers().size(), 1u);
  EXPECT_EQ(d.trailers()[0].second, "AAAAAA==");

  chunked_decoder bad(payload_mode::streaming_signed_trailer, ctx);
  auto e = decode(bad, signed_trailer_body(ctx, "some data", "AAAAAA==", true), 5);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, s3_errc::signature_does_not_match);
}

}  // namespace
}  // namespace garage::s3
