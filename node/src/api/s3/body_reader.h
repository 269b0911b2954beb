// Reads an S3 request body as the client meant it: decodes the aws-chunked
// framing (checking chunk signatures) when the payload is streamed, and checks
// the declared digests (x-amz-content-sha256, Content-MD5, the x-amz-checksum-*
// header or trailer) once the body is complete. Internal to api/s3; one per
// request, used from its coroutine.
#pragma once

#include <optional>
#include <string>

#include "api/s3/checksums.h"
#include "api/s3/chunked_decoder.h"
#include "api/s3/request_context.h"
#include "util/hash.h"

namespace garage::s3 {

class body_reader {
 public:
  // InvalidDigest when Content-MD5 is not 16 bytes of base64; InvalidRequest
  // for malformed checksum headers (checksums.h). With object_checksum false,
  // x-amz-checksum-* headers are not about this body (CompleteMultipartUpload).
  static s3_result<std::unique_ptr<body_reader>> make(request_context& ctx,
                                                      bool object_checksum = true);

  // Appends at most `max` decoded bytes to `out`; 0 at the end of the body.
  // IncompleteBody when the client stops early.
  s3_task<size_t> read(std::string& out, size_t max);
  // Reads until `out` holds `want` bytes or the body ends.
  s3_task<size_t> fill(std::string& out, size_t want);
  // Reads a whole small body (an XML document) and checks it like finish().
  // EntityTooLarge past `limit` bytes.
  s3_task<std::string> read_all(size_t limit);
  // After the last read: XAmzContentSHA256Mismatch, BadDigest, IncompleteBody;
  // InvalidRequest when an announced trailer checksum is missing or malformed.
  s3_result<void> finish();

  // Computes `a` over the body even if the request names no checksum (an
  // UploadPart of an upload created with an algorithm). Before the first
  // read; InvalidRequest if the request announced another algorithm.
  s3_result<void> require_checksum(checksum_algorithm a);
  // The checksum computed over the body (and checked), after finish().
  const std::optional<std::pair<checksum_algorithm, std::string>>& checksum() const {
    return checksum_value_;
  }

  // The decoded size, when the client declared it.
  std::optional<uint64_t> declared_size() const { return declared_size_; }
  uint64_t bytes_read() const { return decoded_; }
  // Raw MD5 of the decoded body (valid after the end).
  const std::string& md5() const { return md5_; }

 private:
  explicit body_reader(request_context& ctx) : ctx_(ctx) {}
  void consume(std::string_view data);

  request_context& ctx_;
  std::optional<chunked_decoder> chunked_;
  std::optional<digest_hasher> sha256_;
  checksum_request checksum_request_;
  std::optional<checksum_hasher> checksum_;
  std::optional<std::pair<checksum_algorithm, std::string>> checksum_value_;
  digest_hasher md5_hasher_{"MD5"};
  std::optional<std::string> content_md5_;  // raw, from the header
  std::optional<uint64_t> declared_size_;
  std::string pending_;  // decoded bytes not yet handed out
  std::string raw_;      // read buffer
  uint64_t decoded_ = 0;
  bool eof_ = false;
  std::string md5_;
};

}  // namespace garage::s3
