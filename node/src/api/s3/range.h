// The Range header of GetObject/HeadObject in S3 terms. The pure parsing is
// api/common/byte_range.h (shared with the website endpoint).
#pragma once

#include <optional>
#include <string_view>

#include "api/common/byte_range.h"
#include "api/s3/s3_error.h"

namespace garage::s3 {

using http::byte_range;
using http::content_range;
using http::unsatisfied_content_range;

// nullopt: serve the whole object with 200 (see http::resolve_range).
// InvalidRange (416) when the range cannot be satisfied; the response then
// carries Content-Range: unsatisfied_content_range(size).
inline s3_result<std::optional<byte_range>> parse_range(std::optional<std::string_view> header,
                                                        uint64_t size) {
  auto r = http::resolve_range(header, size);
  if (r.kind == http::range_request::unsatisfiable) return make_error(s3_errc::invalid_range);
  if (r.kind == http::range_request::whole) return std::optional<byte_range>();
  return std::optional<byte_range>(r.range);
}

}  // namespace garage::s3
