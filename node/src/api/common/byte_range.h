// The Range header of a GET (RFC 7233 bytes ranges, one range only), as S3
// reads it; shared by the S3 API and the website endpoint. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace garage::http {

// A satisfiable range of an object: bytes [start, start + length).
struct byte_range {
  uint64_t start = 0;
  uint64_t length = 0;

  uint64_t last() const { return start + length - 1; }
  bool operator==(const byte_range&) const = default;
};

struct range_request {
  enum kind_t {
    whole,          // serve the whole object with 200
    partial,        // serve `range` with 206
    unsatisfiable,  // 416 with Content-Range: unsatisfied_content_range(size)
  } kind = whole;
  byte_range range;
};

// Resolves a Range header against an object of `size` bytes:
//   "bytes=a-b" (b clamped to size-1), "bytes=a-", "bytes=-n" (the last n bytes).
// whole: no header, a syntactically invalid one, another unit, or several
// ranges (AWS ignores those too). unsatisfiable: a >= size, a suffix of 0,
// or any range of an empty object.
range_request resolve_range(std::optional<std::string_view> header, uint64_t size);

// "bytes a-b/size", for a 206 response.
std::string content_range(const byte_range& r, uint64_t size);
// "bytes */size", for a 416 response.
std::string unsatisfied_content_range(uint64_t size);

}  // namespace garage::http
