#include "api/s3/copy_params.h"

#include "api/common/conditional.h"

namespace garage::s3 {

namespace {

std::optional<uint64_t> parse_offset(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

s3_result<http::byte_range> parse_copy_source_range(std::string_view header, uint64_t size) {
  auto malformed = [] {
    return make_error(s3_errc::invalid_argument,
                      "The x-amz-copy-source-range value must be of the form bytes=first-last "
                      "where first and last are the zero-based offsets of the first and last "
                      "bytes to copy");
  };
  if (!header.starts_with("bytes=")) return malformed();
  header.remove_prefix(6);
  size_t dash = header.find('-');
  if (dash == std::string_view::npos) return malformed();
  auto first = parse_offset(header.substr(0, dash));
  auto last = parse_offset(header.substr(dash + 1));
  if (!first || !last || *first > *last) return malformed();
  if (*last >= size) {
    return make_error(
        s3_errc::invalid_argument,
        "Range specified is not valid for source object of size: " + std::to_string(size));
  }
  return http::byte_range{*first, *last - *first + 1};
}

s3_result<void> check_copy_conditions(const http::header_map& headers, std::string_view etag,
                                      uint64_t last_modified_msec) {
  http::conditional_headers c;
  c.if_match = headers.get("x-amz-copy-source-if-match");
  c.if_none_match = headers.get("x-amz-copy-source-if-none-match");
  c.if_modified_since = headers.get("x-amz-copy-source-if-modified-since");
  c.if_unmodified_since = headers.get("x-amz-copy-source-if-unmodified-since");
  // For a copy, "not modified" is a failed precondition like the others.
  if (http::evaluate_conditions(c, etag, last_modified_msec) != http::condition_outcome::proceed) {
    return make_error(s3_errc::precondition_failed);
  }
  return {};
}

s3_result<metadata_directive> parse_metadata_directive(std::optional<std::string_view> header) {
  if (!header || *header == "COPY") return metadata_directive::copy;
  if (*header == "REPLACE") return metadata_directive::replace;
  return make_error(s3_errc::invalid_argument, "Unknown metadata directive.");
}

std::vector<copy_piece> plan_copy(const model::version& source, uint64_t start, uint64_t length) {
  std::vector<copy_piece> out;
  uint64_t end = start + length;
  uint64_t pos = 0;  // offset of the current block in the object
  for (const auto& [loc, b] : source.blocks) {
    uint64_t block_end = pos + b.size;
    if (block_end > start && pos < end) {
      out.push_back({loc, b, start > pos ? start - pos : 0, std::min<uint64_t>(b.size, end - pos)});
    }
    pos = block_end;
    if (pos >= end) break;
  }
  return out;
}

}  // namespace garage::s3
