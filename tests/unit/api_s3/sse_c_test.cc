// SSE-C headers (both the object and the copy-source forms), the access
// rules against a stored key MD5, the response headers, and sealing of
// stored bytes.
#include "api/s3/sse_c.h"

#include <gtest/gtest.h>

#include "util/encoding.h"
#include "util/hash.h"

namespace garage::s3 {
namespace {

const std::string kKey(32, 'K');

http::header_map headers(const std::string& prefix, std::optional<std::string> alg,
                         std::optional<std::string> key, std::optional<std::string> md5v) {
  http::header_map h;
  if (alg) h.add(prefix + "algorithm", *alg);
  if (key) h.add(prefix + "key", *key);
  if (md5v) h.add(prefix + "key-MD5", *md5v);
  return h;
}
const std::string kObj = "x-amz-server-side-encryption-customer-";
const std::string kSrc = "x-amz-copy-source-server-side-encryption-customer-";

TEST(sse_c, no_headers_is_no_key) {
  auto r = parse_sse_c(http::header_map{}, sse_c_role::object);
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
}

TEST(sse_c, valid_key_in_each_role) {
  auto h = headers(kObj, "AES256", base64_encode(kKey), base64_encode(md5(kKey)));
  auto r = parse_sse_c(h, sse_c_role::object);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->key, kKey);
  EXPECT_EQ((*r)->md5, md5(kKey));
  // The object headers say nothing about a copy's source, and back.
  auto src = parse_sse_c(h, sse_c_role::copy_source);
  ASSERT_TRUE(src);
  EXPECT_FALSE(*src);
  auto s = headers(kSrc, "AES256", base64_encode(kKey), base64_encode(md5(kKey)));
  auto rs = parse_sse_c(s, sse_c_role::copy_source);
  ASSERT_TRUE(rs && *rs);
  EXPECT_EQ((*rs)->key, kKey);
}

TEST(sse_c, header_errors) {
  auto code = [](const http::header_map& h) {
    return parse_sse_c(h, sse_c_role::object).error().code;
  };
  const auto k = base64_encode(kKey), m = base64_encode(md5(kKey));
  EXPECT_EQ(code(headers(kObj, "AES128", k, m)), s3_errc::invalid_encryption_algorithm);
  EXPECT_EQ(code(headers(kObj, "aws:kms", k, m)), s3_errc::invalid_encryption_algorithm);
  EXPECT_EQ(code(headers(kObj, std::nullopt, k, m)), s3_errc::invalid_argument);
  EXPECT_EQ(code(headers(kObj, "AES256", std::nullopt, m)), s3_errc::invalid_argument);
  EXPECT_EQ(code(headers(kObj, "AES256", k, std::nullopt)), s3_errc::invalid_argument);
  // Not base64, or not 32 bytes.
  EXPECT_EQ(code(headers(kObj, "AES256", "***", m)), s3_errc::invalid_argument);
  EXPECT_EQ(code(headers(kObj, "AES256", base64_encode(std::string(16, 'K')),
                         base64_encode(md5(std::string(16, 'K'))))),
            s3_errc::invalid_argument);
  // MD5 of another key.
  auto wrong =
      parse_sse_c(headers(kObj, "AES256", k, base64_encode(md5("other"))), sse_c_role::object);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("MD5"), std::string::npos);
  EXPECT_EQ(code(headers(kObj, "AES256", k, "not base64!")), s3_errc::invalid_argument);
}

TEST(sse_c, access_rules) {
  sse_c_key right{kKey, md5(kKey)};
  sse_c_key other{std::string(32, 'O'), md5(std::string(32, 'O'))};
  EXPECT_TRUE(check_sse_c_key("", std::nullopt));
  EXPECT_TRUE(check_sse_c_key(md5(kKey), right));
  EXPECT_EQ(check_sse_c_key(md5(kKey), std::nullopt).error().code, s3_errc::invalid_request);
  EXPECT_EQ(check_sse_c_key(md5(kKey), std::nullopt).error().status(), 400u);
  EXPECT_EQ(check_sse_c_key(md5(kKey), other).error().code, s3_errc::access_denied);
  EXPECT_EQ(check_sse_c_key(md5(kKey), other).error().status(), 403u);
  EXPECT_EQ(check_sse_c_key("", right).error().code, s3_errc::invalid_request);
  EXPECT_NE(check_sse_c_key(md5(kKey), std::nullopt, sse_c_role::copy_source)
                .error()
                .message.find("source"),
            std::string::npos);
}

TEST(sse_c, response_headers) {
  http::response_head h;
  set_sse_c_headers(h, "");
  EXPECT_TRUE(h.headers.items().empty());
  set_sse_c_headers(h, md5(kKey));
  EXPECT_EQ(h.headers.get("x-amz-server-side-encryption-customer-algorithm"), "AES256");
  EXPECT_EQ(h.headers.get("x-amz-server-side-encryption-customer-key-md5"),
            base64_encode(md5(kKey)));
}

TEST(sse_c, sealing_for_storage) {
  auto plain = seal_for_storage(std::nullopt, "data");
  ASSERT_TRUE(plain);
  EXPECT_EQ(*plain, "data");
  auto sealed = seal_for_storage(kKey, "data");
  ASSERT_TRUE(sealed);
  EXPECT_NE(*sealed, "data");
  // Sealed bytes hash differently from the plain block: no deduplication.
  EXPECT_NE(blake2b_256(*sealed), blake2b_256("data"));
  auto opened = open_from_storage(kKey, *sealed);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, "data");
  auto wrong = open_from_storage(std::string(32, 'O'), *sealed);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, errc::permission_denied);
}

}  // namespace
}  // namespace garage::s3
