// The request pieces of CopyObject and UploadPartCopy that are pure logic:
// x-amz-copy-source-range, the x-amz-copy-source-if-* conditions,
// x-amz-metadata-directive, and which blocks of a source a copied range can
// share as they are. Thread-safe, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "api/common/byte_range.h"
#include "api/common/http.h"
#include "api/s3/s3_error.h"
#include "model/version.h"

namespace garage::s3 {

// x-amz-copy-source-range against a source of `size` bytes. Only the form
// "bytes=first-last" (both given, first <= last) is accepted, else
// InvalidArgument; a last byte at or past the end: InvalidArgument "Range
// specified is not valid for source object of size: N", as AWS answers.
s3_result<http::byte_range> parse_copy_source_range(std::string_view header, uint64_t size);

// x-amz-copy-source-if-match / -none-match / -modified-since /
// -unmodified-since against the source (etag quoted). Every failure is
// PreconditionFailed (412): If-Match true with Unmodified-Since false
// proceeds, If-None-Match false with Modified-Since true fails, as AWS documents.
s3_result<void> check_copy_conditions(const http::header_map& headers, std::string_view etag,
                                      uint64_t last_modified_msec);

enum class metadata_directive { copy, replace };
// x-amz-metadata-directive (absent: COPY); anything else: InvalidArgument.
s3_result<metadata_directive> parse_metadata_directive(std::optional<std::string_view> header);

// One block of a source that a copied range touches: bytes [from, to) of it
// go to the copy. A piece is whole when it covers its block entirely, and the
// block can then be referenced again instead of re-cut.
struct copy_piece {
  model::block_location loc;  // in the source version
  model::version_block block;
  uint64_t from = 0;
  uint64_t to = 0;
  bool whole() const { return from == 0 && to == block.size; }
  bool operator==(const copy_piece&) const = default;
};
// The pieces of bytes [start, start + length) of a block list, in order.
std::vector<copy_piece> plan_copy(const model::version& source, uint64_t start, uint64_t length);

}  // namespace garage::s3
