#include "model/ids.h"

#include <algorithm>

#include "util/random.h"

namespace garage::model {

namespace {
bool all_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}
}  // namespace

std::string new_bucket_id() { return random_hex(32); }
std::string new_version_id() { return random_hex(16); }
std::string new_key_id() { return "GK" + random_hex(12); }
std::string new_secret_key() { return random_hex(32); }

bool is_valid_key_id(std::string_view id) {
  return id.size() == 26 && id.substr(0, 2) == "GK" && all_hex(id.substr(2));
}

bool is_valid_bucket_id(std::string_view id) { return id.size() == 64 && all_hex(id); }

}  // namespace garage::model
