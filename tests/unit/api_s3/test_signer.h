// A SigV4 client for the tests: signs request heads the way awscli/boto3 do,
// so that the verifier can be exercised on requests of any shape. Its
// correctness is anchored by the AWS documented examples in sigv4_test.cc.
#pragma once

#include <string>
#include <vector>

#include "api/common/http.h"
#include "api/s3/sigv4.h"
#include "util/encoding.h"
#include "util/hash.h"

namespace garage::s3::testing {

inline constexpr const char* k_akid = "AKIAIOSFODNN7EXAMPLE";
inline constexpr const char* k_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
inline constexpr const char* k_empty_sha =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// 2013-05-24T00:00:00Z in msec.
inline constexpr uint64_t k_may24 = 1369353600000ull;

inline std::string sign_header(const http::request_head& h, const std::string& amz_date,
                               const std::vector<std::string>& signed_headers,
                               const std::string& payload_hash,
                               const std::string& secret = k_secret,
                               const std::string& region = "us-east-1",
                               const std::string& akid = k_akid) {
  std::string date = amz_date.substr(0, 8);
  std::string scope = date + "/" + region + "/s3/aws4_request";
  std::string list;
  for (auto& n : signed_headers) list += (list.empty() ? "" : ";") + n;
  std::string creq =
      h.method + "\n" + *canonical_uri(h.path()) + "\n" + *canonical_query(h.query(), false) +
      "\n" + *canonical_headers(h.headers, signed_headers) + "\n" + list + "\n" + payload_hash;
  std::string sig =
      sign_hex(derive_signing_key(secret, date, region), string_to_sign(amz_date, scope, creq));
  return "AWS4-HMAC-SHA256 Credential=" + akid + "/" + scope + ", SignedHeaders=" + list +
         ", Signature=" + sig;
}

}  // namespace garage::s3::testing
