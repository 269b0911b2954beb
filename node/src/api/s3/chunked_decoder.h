// Incremental decoder of `aws-chunked` request bodies (the STREAMING-* values
// of x-amz-content-sha256):
//
//   streaming_signed:            <hex>;chunk-signature=<sig>\r\n<data>\r\n ...
//   0;chunk-signature=<sig>\r\n\r\n streaming_unsigned_trailer:  <hex>\r\n<data>\r\n ...
//   0\r\n<name>:<value>\r\n ... \r\n streaming_signed_trailer:    signed chunks, then trailer lines
//   and
//                                x-amz-trailer-signature:<sig>\r\n\r\n
//
// Each chunk signature chains from the previous one (the first from the seed
// signature of the request), as AWS documents. Feed bytes as they arrive, in
// any split; decoded data comes back only once its chunk signature has been
// checked, so at most one chunk (plus one line) is buffered.
//
// Not thread-safe: one decoder per request body.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/s3/s3_error.h"
#include "api/s3/sigv4.h"
#include "util/hash.h"

namespace garage::s3 {

class chunked_decoder {
 public:
  // `mode` must be one of the streaming_* modes; `ctx` comes from
  // auth_result::streaming (ignored for streaming_unsigned_trailer).
  // A chunk larger than max_chunk_size is an error.
  chunked_decoder(payload_mode mode, streaming_context ctx, uint64_t max_chunk_size = 16ull << 20);

  // Consumes `input`; returns the data decoded (and verified) so far by it,
  // possibly empty. Errors: SignatureDoesNotMatch (a chunk or trailer
  // signature), InvalidRequest (malformed framing, bytes after the end),
  // EntityTooLarge (a chunk over max_chunk_size). After an error the decoder
  // stays failed.
  s3_result<std::string> feed(std::string_view input);

  // True once the final chunk (and trailer) has been read.
  bool done() const { return state_ == state::done; }
  // To call at the end of the body: IncompleteBody if it is not done(). A
  // trailer that ends without its final empty line is accepted here.
  s3_result<void> finish();

  // Total bytes of decoded data returned so far (compare to x-amz-decoded-content-length).
  uint64_t decoded_size() const { return decoded_size_; }
  // Trailer headers (names lower-cased), in order; x-amz-trailer-signature excluded.
  const std::vector<std::pair<std::string, std::string>>& trailers() const { return trailers_; }

 private:
  enum class state { size_line, data, data_crlf, trailer_line, done, failed };

  s3_result<void> on_size_line(std::string_view line);
  s3_result<void> on_chunk_complete();
  s3_result<void> on_trailer_line(std::string_view line);
  s3_result<void> end_of_trailer();
  s3_error fail(s3_error e);

  payload_mode mode_;
  streaming_context ctx_;
  uint64_t max_chunk_size_;
  bool signed_;
  state state_ = state::size_line;
  std::string line_;          // a partial size/trailer line
  std::string chunk_;         // data of the current signed chunk, until verified
  digest_hasher chunk_hash_;  // SHA-256 of chunk_ so far
  uint64_t remaining_ = 0;    // bytes of the current chunk still to read
  bool last_chunk_ = false;
  std::string expected_sig_;  // signature announced for the current chunk
  std::string previous_sig_;
  uint64_t decoded_size_ = 0;
  std::vector<std::pair<std::string, std::string>> trailers_;
  std::string trailer_signature_;
  std::string out_;
  std::optional<s3_error> failure_;
};

// Hex signature of one chunk: HMAC(signing_key, "AWS4-HMAC-SHA256-PAYLOAD\n" +
// amz_date + "\n" + scope + "\n" + previous_signature + "\n" + sha256("") +
// "\n" + chunk_sha256_hex).
std::string chunk_signature(const streaming_context& ctx, std::string_view previous_signature,
                            std::string_view chunk_sha256_hex);
// Hex signature of the trailer: HMAC(signing_key, "AWS4-HMAC-SHA256-TRAILER\n" +
// amz_date + "\n" + scope + "\n" + previous_signature + "\n" +
// hex(sha256(canonical trailer lines "name:value\n"))).
std::string trailer_signature(const streaming_context& ctx, std::string_view previous_signature,
                              std::string_view canonical_trailer);

}  // namespace garage::s3
