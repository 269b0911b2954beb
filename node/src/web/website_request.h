// What a website request asks for, from its Host header and path: which
// bucket, which object key (index documents for directories). Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace garage::web {

// The bucket name a Host header addresses: "<bucket>.<root_domain>" (port
// ignored, case-insensitive) gives <bucket>; any other host is the bucket
// name itself (a bucket whose global alias is the whole domain, e.g.
// "www.example.com"). nullopt for an empty host.
std::optional<std::string> bucket_from_host(std::string_view host, std::string_view root_domain);

// The object key of a request target ("/dir/page.html?x=1" → "dir/page.html"):
// the path percent-decoded, without its leading '/'; a path that is empty or
// ends with '/' gets `index` appended ("/" → "index.html", "/dir/" →
// "dir/index.html"). nullopt when the percent-encoding is malformed.
std::optional<std::string> key_from_target(std::string_view target, std::string_view index);

// The path of a request target, percent-decoded, without its leading '/' and
// without the index appended ("" for "/"). nullopt when malformed.
std::optional<std::string> path_from_target(std::string_view target);

}  // namespace garage::web
