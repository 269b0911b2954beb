// TEMPORARY local stand-in for api/common/http.cc (not committed).
#include "api/common/http.h"

#include <cstdio>
#include <cstring>
#include <ctime>

#include "util/encoding.h"
namespace garage::http {
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower((unsigned char)a[i]) != std::tolower((unsigned char)b[i])) return false;
  return true;
}
std::string to_lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = (char)std::tolower((unsigned char)c);
  return o;
}
void header_map::set(std::string_view name, std::string value) {
  erase(name);
  add(std::string(name), std::move(value));
}
void header_map::erase(std::string_view name) {
  std::erase_if(items_, [&](auto& p) { return iequals(p.first, name); });
}
std::optional<std::string_view> header_map::get(std::string_view name) const {
  for (auto& [n, v] : items_)
    if (iequals(n, name)) return std::string_view(v);
  return std::nullopt;
}
std::string_view request_head::path() const {
  auto q = target.find('?');
  return std::string_view(target).substr(0, q);
}
std::string_view request_head::query() const {
  auto q = target.find('?');
  return q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1);
}
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto item = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    auto k = uri_decode(item.substr(0, eq), true);
    auto v = eq == std::string_view::npos ? std::optional<std::string>("")
                                          : uri_decode(item.substr(eq + 1), true);
    out.emplace_back(k.value_or(std::string(item.substr(0, eq))), v.value_or(""));
  }
  return out;
}
std::string format_iso8601(uint64_t msec) {
  time_t t = (time_t)(msec / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char b[96];
  snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(msec % 1000));
  return b;
}
std::string format_http_date(uint64_t msec) {
  time_t t = (time_t)(msec / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char b[96];
  strftime(b, sizeof b, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return b;
}
std::optional<uint64_t> parse_http_date(std::string_view s) {
  struct tm tm {};
  std::string str(s);
  const char* e = strptime(str.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!e || *e) return std::nullopt;
  return (uint64_t)timegm(&tm) * 1000;
}
std::optional<uint64_t> parse_amz_date(std::string_view s) {
  if (s.size() != 16) return std::nullopt;
  struct tm tm {};
  std::string str(s);
  const char* e = strptime(str.c_str(), "%Y%m%dT%H%M%SZ", &tm);
  if (!e || *e) return std::nullopt;
  return (uint64_t)timegm(&tm) * 1000;
}

const char* reason_phrase(unsigned status) {
  static constexpr std::pair<unsigned, const char*> phrases[] = {
      {100, "Continue"},
      {101, "Switching Protocols"},
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {204, "No Content"},
      {206, "Partial Content"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {303, "See Other"},
      {304, "Not Modified"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {406, "Not Acceptable"},
      {408, "Request Timeout"},
      {409, "Conflict"},
      {410, "Gone"},
      {411, "Length Required"},
      {412, "Precondition Failed"},
      {413, "Payload Too Large"},
      {414, "URI Too Long"},
      {415, "Unsupported Media Type"},
      {416, "Range Not Satisfiable"},
      {417, "Expectation Failed"},
      {422, "Unprocessable Entity"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
      {505, "HTTP Version Not Supported"},
      {507, "Insufficient Storage"},
  };
  for (const auto& [code, phrase] : phrases)
    if (code == status) return phrase;
  if (status < 200) return "Informational";
  if (status < 300) return "Success";
  if (status < 400) return "Redirection";
  if (status < 500) return "Client Error";
  return "Server Error";
}
}  // namespace garage::http
