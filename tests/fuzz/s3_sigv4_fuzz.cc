// libFuzzer entry: the SigV4 Authorization header parser and the verifier
// (header form when the input starts with "AWS4", query form otherwise).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "api/s3/sigv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  (void)garage::s3::parse_authorization_header(in);
  garage::http::request_head h;
  h.method = "GET";
  h.headers.add("Host", "localhost");
  h.headers.add("x-amz-date", "20130524T000000Z");
  h.headers.add("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
  if (in.starts_with("AWS4")) {
    h.target = "/b/k";
    h.headers.add("Authorization", in);
  } else {
    h.target = "/b/k?" + in;
  }
  auto lookup = [](std::string_view) -> std::optional<std::string> { return "secret"; };
  (void)garage::s3::verify_request(h, "us-east-1", lookup, 1369353600000ull);
  return 0;
}
