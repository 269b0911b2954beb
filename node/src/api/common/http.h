// Plain HTTP types shared by the API front ends. Handlers see only these (and
// asio::awaitable), never Beast: Beast is compiled in http_server.cc alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace garage::http {

// Header names are compared case-insensitively; insertion order is kept.
class header_map {
 public:
  void add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every value of `name` by one.
  void set(std::string_view name, std::string value);
  void erase(std::string_view name);
  // First value of `name`, if any.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view s);

// A request line and its headers, as received.
struct request_head {
  std::string method;  // upper case, e.g. "GET"
  std::string target;  // raw request target, still percent-encoded: "/bucket/a%20b?list-type=2"
  header_map headers;
  // Value of Content-Length, if the request has one.
  std::optional<uint64_t> content_length;
  bool chunked = false;  // Transfer-Encoding: chunked

  std::string_view path() const;   // target before '?', still encoded
  std::string_view query() const;  // target after '?', or empty
};

// Decoded query parameters in order of appearance. A key without '=' has an
// empty value (e.g. "?uploads").
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

struct response_head {
  unsigned status = 200;
  header_map headers;
};

const char* reason_phrase(unsigned status);

// HTTP-date (RFC 7231 IMF-fixdate) of a time in milliseconds since the epoch.
std::string format_http_date(uint64_t msec);
// Parses IMF-fixdate (and the obsolete RFC 850 / asctime forms). nullopt if malformed.
std::optional<uint64_t> parse_http_date(std::string_view s);
// ISO 8601 as S3 writes it in XML: 2024-01-02T03:04:05.000Z
std::string format_iso8601(uint64_t msec);
// Parses "20240102T030405Z" (x-amz-date form). nullopt if malformed.
std::optional<uint64_t> parse_amz_date(std::string_view s);

}  // namespace garage::http
