// SSE-C: server-side encryption with a key the client sends on every request
// (x-amz-server-side-encryption-customer-algorithm / -key / -key-MD5, and the
// x-amz-copy-source-... forms naming the key of a copy's source). The node
// never stores the key: an object records the key's MD5
// (model::object_meta::sse_c_key_md5) and its blocks and inline bytes are
// AES-256-GCM sealed values (util/aes_gcm.h), each with its own nonce. A
// sealed block is stored under the hash of its sealed bytes, so it never
// deduplicates with plain data. Keys are accepted over plain HTTP, as Garage
// does (AWS requires TLS). Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/common/http.h"
#include "api/s3/s3_error.h"
#include "util/result.h"

namespace garage::s3 {

struct sse_c_key {
  std::string key;  // 32 raw bytes
  std::string md5;  // 16 raw bytes: MD5 of key
  bool operator==(const sse_c_key&) const = default;
};

enum class sse_c_role { object, copy_source };

// The key a request names for the object it writes or reads (role object) or
// for the source of a copy (role copy_source). nullopt when none of the three
// headers is present. InvalidArgument when one is missing, the key is not
// base64 of 32 bytes or the MD5 does not match it; InvalidEncryptionAlgorithmError
// for an algorithm other than AES256.
s3_result<std::optional<sse_c_key>> parse_sse_c(const http::header_map& headers, sse_c_role role);

// Whether `given` opens an object stored with key MD5 `stored_md5` (empty:
// stored in plain). An encrypted object read without a key, or a plain object
// read with one: InvalidRequest (400); a key that is not the one: AccessDenied
// (403), as AWS answers.
s3_result<void> check_sse_c_key(std::string_view stored_md5, const std::optional<sse_c_key>& given,
                                sse_c_role role = sse_c_role::object);

// The x-amz-server-side-encryption-customer-algorithm and -key-MD5 response
// headers of an SSE-C object (nothing when key_md5 is empty).
void set_sse_c_headers(http::response_head& h, std::string_view key_md5);

// Stored bytes of data written under `key` (sealed), or the data itself.
result<std::string> seal_for_storage(const std::optional<std::string>& key, std::string data);
// The plain data of stored bytes; permission_denied when the key does not open them.
result<std::string> open_from_storage(const std::optional<std::string>& key, std::string stored);

}  // namespace garage::s3
