// The Range header of GetObject/HeadObject, as S3 reads it (RFC 7233 bytes
// ranges, one range only). Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/s3/s3_error.h"

namespace garage::s3 {

// A satisfiable range of an object: bytes [start, start + length).
struct byte_range {
  uint64_t start = 0;
  uint64_t length = 0;

  uint64_t last() const { return start + length - 1; }
  bool operator==(const byte_range&) const = default;
};

// Resolves a Range header against an object of `size` bytes:
//   "bytes=a-b" (b clamped to size-1), "bytes=a-", "bytes=-n" (the last n bytes).
// nullopt means "serve the whole object with 200": no header, a syntactically
// invalid one, another unit, or several ranges (AWS ignores those too).
// InvalidRange (416) when the range cannot be satisfied: a >= size, a suffix
// of 0, or any range of an empty object; the response then carries
// Content-Range: unsatisfied_content_range(size).
s3_result<std::optional<byte_range>> parse_range(std::optional<std::string_view> header,
                                                 uint64_t size);

// "bytes a-b/size", for a 206 response.
std::string content_range(const byte_range& r, uint64_t size);
// "bytes */size", for a 416 response.
std::string unsatisfied_content_range(uint64_t size);

}  // namespace garage::s3
