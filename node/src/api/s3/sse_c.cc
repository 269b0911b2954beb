#include "api/s3/sse_c.h"

#include "util/aes_gcm.h"
#include "util/encoding.h"
#include "util/hash.h"

namespace garage::s3 {

namespace {

constexpr std::string_view kAlgorithm = "AES256";

}  // namespace

s3_result<std::optional<sse_c_key>> parse_sse_c(const http::header_map& headers, sse_c_role role) {
  std::string prefix = role == sse_c_role::copy_source
                           ? "x-amz-copy-source-server-side-encryption-customer-"
                           : "x-amz-server-side-encryption-customer-";
  auto algorithm = headers.get(prefix + "algorithm");
  auto key_b64 = headers.get(prefix + "key");
  auto md5_b64 = headers.get(prefix + "key-md5");
  if (!algorithm && !key_b64 && !md5_b64) return std::optional<sse_c_key>();
  const std::string what =
      "Requests specifying Server Side Encryption with Customer provided keys must provide ";
  if (!algorithm) {
    return make_error(s3_errc::invalid_argument, what + "a valid encryption algorithm.");
  }
  if (*algorithm != kAlgorithm) return make_error(s3_errc::invalid_encryption_algorithm);
  if (!key_b64) return make_error(s3_errc::invalid_argument, what + "an appropriate secret key.");
  if (!md5_b64) {
    return make_error(s3_errc::invalid_argument,
                      what + "the client calculated MD5 of the secret key.");
  }
  auto key = base64_decode(*key_b64);
  if (!key || key->size() != 32) {
    return make_error(s3_errc::invalid_argument,
                      "The secret key was invalid for the specified algorithm.");
  }
  auto given_md5 = base64_decode(*md5_b64);
  std::string actual = md5(*key);
  if (!given_md5 || *given_md5 != actual) {
    return make_error(s3_errc::invalid_argument,
                      "The calculated MD5 hash of the key did not match the hash that was "
                      "provided.");
  }
  return std::optional<sse_c_key>(sse_c_key{std::move(*key), std::move(actual)});
}

s3_result<void> check_sse_c_key(std::string_view stored_md5, const std::optional<sse_c_key>& given,
                                sse_c_role role) {
  if (stored_md5.empty()) {
    if (!given) return {};
    return make_error(s3_errc::invalid_request,
                      "The encryption parameters are not applicable to this object.");
  }
  if (!given) {
    return make_error(s3_errc::invalid_request,
                      role == sse_c_role::copy_source
                          ? "The source object was stored using a form of Server Side Encryption. "
                            "The correct parameters must be provided to retrieve the object."
                          : "The object was stored using a form of Server Side Encryption. The "
                            "correct parameters must be provided to retrieve the object.");
  }
  if (given->md5 != stored_md5) return make_error(s3_errc::access_denied);
  return {};
}

void set_sse_c_headers(http::response_head& h, std::string_view key_md5) {
  if (key_md5.empty()) return;
  h.headers.set("x-amz-server-side-encryption-customer-algorithm", std::string(kAlgorithm));
  h.headers.set("x-amz-server-side-encryption-customer-key-md5", base64_encode(key_md5));
}

result<std::string> seal_for_storage(const std::optional<std::string>& key, std::string data) {
  if (!key) return data;
  return aes256gcm_seal(*key, data);
}

result<std::string> open_from_storage(const std::optional<std::string>& key, std::string stored) {
  if (!key) return stored;
  return aes256gcm_open(*key, stored);
}

}  // namespace garage::s3
