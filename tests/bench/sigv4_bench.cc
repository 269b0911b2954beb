// Cost of authenticating an S3 request: SigV4 header verification (with and
// without the signing-key cache) and the signature check of one 64 KiB
// aws-chunked chunk.
#include <benchmark/benchmark.h>

#include <optional>
#include <string>

#include "api/common/http.h"
#include "api/s3/chunked_decoder.h"
#include "api/s3/sigv4.h"
#include "util/encoding.h"
#include "util/hash.h"

namespace {

using namespace garage;
using namespace garage::s3;

constexpr const char* k_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr uint64_t k_may24 = 1369353600000ull;

// The "GET Object" example of the AWS SigV4 documentation.
http::request_head example_request() {
  http::request_head h;
  h.method = "GET";
  h.target = "/test.txt";
  h.headers.add("Host", "examplebucket.s3.amazonaws.com");
  h.headers.add("Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  h.headers.add("Range", "bytes=0-9");
  h.headers.add("x-amz-content-sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  h.headers.add("x-amz-date", "20130524T000000Z");
  return h;
}

secret_lookup lookup() {
  return [](std::string_view) -> std::optional<std::string> { return std::string(k_secret); };
}

void bm_verify_header(benchmark::State& state) {
  auto head = example_request();
  auto l = lookup();
  for (auto _ : state) {
    auto r = verify_request(head, "us-east-1", l, k_may24);
    if (!r) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(bm_verify_header);

void bm_verify_header_cached_key(benchmark::State& state) {
  auto head = example_request();
  auto l = lookup();
  signing_key_cache cache;
  for (auto _ : state) {
    auto r = verify_request(head, "us-east-1", l, k_may24, &cache);
    if (!r) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(bm_verify_header_cached_key);

void bm_chunk_signature_64k(benchmark::State& state) {
  streaming_context ctx{derive_signing_key(k_secret, "20130524", "us-east-1"),
                        "20130524/us-east-1/s3/aws4_request", "20130524T000000Z",
                        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"};
  std::string data(64 * 1024, 'a');
  std::string sig = chunk_signature(ctx, ctx.seed_signature, hex_encode(sha256(data)));
  std::string body = "10000;chunk-signature=" + sig + "\r\n" + data + "\r\n";
  for (auto _ : state) {
    chunked_decoder d(payload_mode::streaming_signed, ctx);
    auto r = d.feed(body);
    if (!r || r->size() != data.size()) state.SkipWithError("chunk rejected");
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(data.size()));
}
BENCHMARK(bm_chunk_signature_64k);

}  // namespace
