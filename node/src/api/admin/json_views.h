// The JSON documents of Garage's admin API v2 built from model entries:
// GetKeyInfoResponse, GetBucketInfoResponse and the list items. Blocking (they
// read related keys and buckets from the store); called from handlers only.
#pragma once

#include <nlohmann/json.hpp>

#include "api/admin/admin_error.h"
#include "model/bucket.h"
#include "model/counter.h"
#include "model/key.h"

namespace garage::model {
class store;
}

namespace garage::admin {

using ojson = nlohmann::ordered_json;

// {"read", "write", "owner"}
ojson permission_json(const model::bucket_permission& p);

// GetKeyInfoResponse. secretAccessKey is null unless show_secret. Buckets the
// key has any permission on (and that still exist) are listed with their
// global aliases.
api_result<ojson> key_info_json(model::store& s, const model::access_key& k, bool show_secret);

// GetBucketInfoResponse: aliases, keys with their permissions, counters.
api_result<ojson> bucket_info_json(model::store& s, const model::bucket& b);

// Pure part of the above, for tests: `key_names` maps key id → name for the
// keys listed in b.keys (a key missing from it is left out: deleted).
ojson bucket_info_json(const model::bucket& b, const model::bucket_counts& counts,
                       const std::vector<std::pair<std::string, std::string>>& key_names);

// ListBucketsResponseItem.
ojson bucket_list_item_json(const model::bucket& b);

// Serialises a reply document (pretty-printed like Garage's, invalid UTF-8
// replaced).
std::string to_body(const ojson& j);

}  // namespace garage::admin
