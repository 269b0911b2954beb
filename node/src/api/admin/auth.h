// Bearer-token checks of the admin API.
#pragma once

#include <optional>
#include <string_view>

namespace garage::admin {

// The token of an "Authorization: Bearer <token>" header value (scheme
// case-insensitive, surrounding blanks ignored); nullopt for another scheme
// or an empty token.
std::optional<std::string_view> bearer_token(std::string_view authorization);

// Compares in time that depends on neither the contents nor the length of
// `given` relative to `expected` (both are hashed first). An empty `expected`
// never matches.
bool token_matches(std::string_view given, std::string_view expected);

}  // namespace garage::admin
