// Identifiers of the data model and how new ones are made.
//
// Bucket ids and version ids are random (32 and 16 bytes, as lowercase hex);
// access key ids are "GK" + 24 hex digits and secrets 64 hex digits, the shape
// Garage uses, so existing tooling recognises them.
#pragma once

#include <string>
#include <string_view>

namespace garage::model {

std::string new_bucket_id();   // 64 hex
std::string new_version_id();  // 32 hex
std::string new_key_id();      // "GK" + 24 hex
std::string new_secret_key();  // 64 hex

bool is_valid_key_id(std::string_view id);
bool is_valid_bucket_id(std::string_view id);

}  // namespace garage::model
