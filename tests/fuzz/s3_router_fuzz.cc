// libFuzzer entry: S3 request routing. Input: "METHOD\nTARGET\nHOST".
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/s3/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  garage::http::request_head h;
  size_t a = in.find('\n');
  h.method = std::string(in.substr(0, a));
  in = a == std::string_view::npos ? std::string_view() : in.substr(a + 1);
  size_t b = in.find('\n');
  h.target = std::string(in.substr(0, b));
  if (b != std::string_view::npos) h.headers.add("Host", std::string(in.substr(b + 1)));
  (void)garage::s3::route_request(h, ".s3.garage.localhost");
  (void)garage::s3::parse_copy_source(h.target);
  (void)garage::s3::is_valid_bucket_name(h.target);
  return 0;
}
