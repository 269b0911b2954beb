// AWS Signature Version 4 verification for S3: the Authorization header form
// and the presigned URL (query) form.
//
//   auto r = verify_request(head, "garage", lookup_secret, now_msec, &cache);
//   if (!r) return r.error();              // AccessDenied, SignatureDoesNotMatch, ...
//   if (r->anonymous) ...                  // no credentials at all
//   switch (r->payload) ...                // how to check the body
//
// The verifier checks the request line and the headers only. The body is
// checked later, by the handler: against expected_sha256 for a signed payload
// (mismatch → XAmzContentSHA256Mismatch), or by a chunked_decoder built from
// `streaming` for the STREAMING-* payloads.
//
// Functions are pure and thread-safe; signing_key_cache is internally locked.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/common/http.h"
#include "api/s3/s3_error.h"

namespace garage::s3 {

// What x-amz-content-sha256 says about the body.
enum class payload_mode {
  signed_sha256,               // 64 hex digits: the body's SHA-256
  unsigned_payload,            // UNSIGNED-PAYLOAD (and presigned URLs, anonymous)
  streaming_signed,            // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
  streaming_unsigned_trailer,  // STREAMING-UNSIGNED-PAYLOAD-TRAILER
  streaming_signed_trailer,    // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
};

// What a chunk signature chain needs (see chunked_decoder.h).
struct streaming_context {
  std::string signing_key;     // raw 32-byte HMAC key of the request's scope
  std::string scope;           // "20130524/us-east-1/s3/aws4_request"
  std::string amz_date;        // "20130524T000000Z"
  std::string seed_signature;  // hex signature of the request itself
};

struct auth_result {
  // True when the request carries no credentials at all. Nothing else is set
  // then except `payload` (unsigned_payload); the handler decides (AccessDenied).
  bool anonymous = false;
  bool presigned = false;
  std::string access_key_id;
  payload_mode payload = payload_mode::unsigned_payload;
  std::string expected_sha256;  // lower-case hex, for signed_sha256 only
  streaming_context streaming;  // for the streaming_* modes (keys empty for unsigned trailer)
  std::optional<uint64_t> decoded_content_length;  // x-amz-decoded-content-length
  std::string trailer;                             // x-amz-trailer, e.g. "x-amz-checksum-crc32"
};

// Returns the secret key of an access key id, or nullopt if it is unknown.
using secret_lookup = std::function<std::optional<std::string>(std::string_view access_key_id)>;

// Caches derived signing keys per (secret, date, region); safe to share between
// threads. Bounded: it forgets everything when it grows past `capacity`.
class signing_key_cache {
 public:
  explicit signing_key_cache(size_t capacity = 1024);
  ~signing_key_cache();
  std::string get(std::string_view secret, std::string_view date, std::string_view region);

 private:
  struct rep;
  std::unique_ptr<rep> rep_;
};

// Largest difference between the request's date and `now` (header form).
inline constexpr uint64_t k_max_clock_skew_msec = 15 * 60 * 1000;
// Longest X-Amz-Expires a presigned URL may carry (7 days).
inline constexpr uint64_t k_max_presigned_expiry_sec = 7 * 24 * 3600;

// Verifies the request's signature. `region` is the configured S3 region;
// `now_msec` is the current time (milliseconds since the epoch). Errors:
// InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed,
// AccessDenied ("Request has expired"), AuthorizationHeaderMalformed,
// AuthorizationQueryParametersError, InvalidRequest (unsupported scheme,
// missing x-amz-content-sha256), InvalidArgument (bad x-amz-content-sha256),
// InvalidURI (bad percent-encoding).
s3_result<auth_result> verify_request(const http::request_head& head, std::string_view region,
                                      const secret_lookup& lookup, uint64_t now_msec,
                                      signing_key_cache* cache = nullptr);

// --- Building blocks, exposed for tests, benchmarks and fuzzing. ---

// The parsed value of "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
struct authorization_header {
  std::string access_key_id;
  std::string date;  // yyyymmdd
  std::string region;
  std::string service;                      // "s3"
  std::vector<std::string> signed_headers;  // lower case, as listed
  std::string signature;                    // 64 lower-case hex digits
};
s3_result<authorization_header> parse_authorization_header(std::string_view value);

// Canonical URI of a raw (percent-encoded) path: decoded, then each segment
// re-encoded with uri_encode (S3 does not double-encode nor normalise).
s3_result<std::string> canonical_uri(std::string_view raw_path);
// Canonical query string of a raw query: pairs decoded then re-encoded, sorted
// by key then value. With skip_signature, X-Amz-Signature is left out.
// plus_is_space says how a literal '+' is read.
s3_result<std::string> canonical_query(std::string_view raw_query, bool skip_signature,
                                       bool plus_is_space = true);
// Canonical "name:value\n" lines of the signed headers (values trimmed, inner
// runs of spaces collapsed, repeated headers joined with ','). nullopt if a
// signed header is absent.
std::optional<std::string> canonical_headers(const http::header_map& headers,
                                             const std::vector<std::string>& signed_headers);
// kSigning = HMAC chain over "AWS4"+secret, date, region, service, "aws4_request".
std::string derive_signing_key(std::string_view secret, std::string_view date,
                               std::string_view region, std::string_view service = "s3");
// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canonical_request)>"
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);
// Lower-case hex HMAC-SHA256 of `data` under `signing_key`.
std::string sign_hex(std::string_view signing_key, std::string_view data);
// Constant-time equality of two strings (length is not secret).
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace garage::s3
