// Operations on access keys (admin API and CLI). Errors: not_found,
// already_exists (import of an id in use), invalid_argument (a malformed id
// or secret).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/key.h"
#include "util/result.h"

namespace garage::model {

class store;

result<access_key> create_key(store& s, std::string_view name);
result<access_key> import_key(store& s, std::string_view id, std::string_view secret,
                              std::string_view name);
// A live key by exact id.
result<access_key> get_key(store& s, std::string_view id);
// By exact id, unique id prefix, or exact name (for the command line).
result<access_key> find_key(store& s, std::string_view pattern);
result<std::vector<access_key>> list_keys(store& s);
result<access_key> update_key(store& s, std::string_view id, std::optional<std::string> name,
                              std::optional<bool> allow_create_bucket);
// Removes the key and its permissions on every bucket.
result<void> delete_key(store& s, std::string_view id);

}  // namespace garage::model
