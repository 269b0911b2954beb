// libFuzzer entry: the S3 request XML parsers (Delete, CreateBucketConfiguration).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/s3/s3_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto d = garage::s3::parse_delete_request(in);
  if (d && (d->objects.empty() || d->objects.size() > 1000)) std::abort();
  (void)garage::s3::parse_create_bucket_configuration(in);
  return 0;
}
