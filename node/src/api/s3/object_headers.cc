#include "api/s3/object_headers.h"

#include <array>

namespace garage::s3 {

namespace {

constexpr size_t kMaxUserMetadata = 2048;

constexpr std::array<std::string_view, 6> kContentHeaders = {
    "content-type",     "cache-control", "content-disposition",
    "content-language", "expires",       "x-amz-website-redirect-location"};

// Content-Encoding without the aws-chunked framing marker, which describes
// the upload, not the object.
std::string strip_aws_chunked(std::string_view v) {
  std::string out;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t comma = v.find(',', pos);
    if (comma == std::string_view::npos) comma = v.size();
    auto item = v.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty() && !http::iequals(item, "aws-chunked")) {
      if (!out.empty()) out += ",";
      out += item;
    }
    pos = comma + 1;
  }
  return out;
}

}  // namespace

s3_result<model::header_list> stored_headers(const http::header_map& request) {
  model::header_list out;
  size_t user_bytes = 0;
  for (const auto& [name, value] : request.items()) {
    auto lower = http::to_lower(name);
    if (lower.starts_with("x-amz-meta-")) {
      user_bytes += lower.size() - 11 + value.size();
      out.emplace_back(std::move(lower), value);
      continue;
    }
    if (lower == "content-encoding") {
      auto v = strip_aws_chunked(value);
      if (!v.empty()) out.emplace_back(std::move(lower), std::move(v));
      continue;
    }
    for (auto h : kContentHeaders) {
      if (lower == h) {
        out.emplace_back(std::move(lower), value);
        break;
      }
    }
  }
  if (user_bytes > kMaxUserMetadata) {
    return make_error(s3_errc::metadata_too_large);
  }
  bool has_type = false;
  for (const auto& [n, v] : out) has_type = has_type || n == "content-type";
  if (!has_type) out.emplace_back("content-type", "binary/octet-stream");
  return out;
}

}  // namespace garage::s3
