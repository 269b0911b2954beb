// libFuzzer entry: the aws-chunked decoder, in all three modes (first byte),
// fed in pieces whose sizes come from the second byte.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/s3/chunked_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  using garage::s3::payload_mode;
  payload_mode modes[] = {payload_mode::streaming_signed, payload_mode::streaming_unsigned_trailer,
                          payload_mode::streaming_signed_trailer};
  garage::s3::streaming_context ctx{std::string(32, 'k'), "20130524/us-east-1/s3/aws4_request",
                                    "20130524T000000Z", std::string(64, '0')};
  garage::s3::chunked_decoder d(modes[data[0] % 3], ctx, 1 << 20);
  size_t step = 1 + data[1] % 64;
  std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  for (size_t pos = 0; pos < body.size(); pos += step)
    if (!d.feed(body.substr(pos, step))) return 0;
  (void)d.finish();
  return 0;
}
