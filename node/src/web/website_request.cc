#include "web/website_request.h"

#include "api/common/http.h"

namespace garage::web {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> bucket_from_host(std::string_view host, std::string_view root_domain) {
  // Strip the port (an IPv6 literal keeps its brackets: it is no bucket).
  if (!host.empty() && host.front() != '[') {
    size_t colon = host.rfind(':');
    if (colon != std::string_view::npos) host = host.substr(0, colon);
  }
  std::string h = http::to_lower(host);
  while (!h.empty() && h.back() == '.') h.pop_back();  // fully qualified form
  if (h.empty()) return std::nullopt;
  std::string root = http::to_lower(root_domain);
  if (!root.empty() && root.front() != '.') root.insert(root.begin(), '.');
  if (root.size() > 1 && h.size() > root.size() && h.ends_with(root)) {
    return h.substr(0, h.size() - root.size());
  }
  return h;
}

std::optional<std::string> path_from_target(std::string_view target) {
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  // An absolute-form target ("http://host/path") names its path after the host.
  if (path.starts_with("http://") || path.starts_with("https://")) {
    size_t slash = path.find('/', path.find("//") + 2);
    path = slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
  }
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      out += path[i];
      continue;
    }
    if (i + 2 >= path.size()) return std::nullopt;
    int hi = hex_value(path[i + 1]), lo = hex_value(path[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (!out.empty() && out.front() == '/') out.erase(0, 1);
  return out;
}

std::optional<std::string> key_from_target(std::string_view target, std::string_view index) {
  auto path = path_from_target(target);
  if (!path) return std::nullopt;
  if (path->empty() || path->back() == '/') *path += index;
  return path;
}

}  // namespace garage::web
