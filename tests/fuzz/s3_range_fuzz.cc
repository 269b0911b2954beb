// libFuzzer entry: Range header parsing; checks the returned range is inside the object.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/s3/range.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint64_t object_size = static_cast<uint64_t>(data[0]) * 257 + data[1];
  std::string_view h(reinterpret_cast<const char*>(data) + 2, size - 2);
  auto r = garage::s3::parse_range(h, object_size);
  if (r && *r && ((*r)->length == 0 || (*r)->start + (*r)->length > object_size)) std::abort();
  return 0;
}
