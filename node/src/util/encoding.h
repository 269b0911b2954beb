// Text encodings of bytes: hex, base64, and the URI encoding rules of SigV4.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace garage {

std::string hex_encode(std::string_view raw);
std::optional<std::string> hex_decode(std::string_view hex);
std::string base64_encode(std::string_view raw);
std::optional<std::string> base64_decode(std::string_view b64);

// RFC 3986 encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - . _ ~)
// are kept, everything else becomes %XX (upper case). '/' is kept when
// keep_slash is true (canonical URI paths).
std::string uri_encode(std::string_view s, bool keep_slash);
// Decodes %XX escapes (and '+' as space when plus_is_space). nullopt on a bad escape.
std::optional<std::string> uri_decode(std::string_view s, bool plus_is_space = false);

}  // namespace garage
