// One function per admin operation; `execute` (handlers.cc) dispatches to
// them. Internal to api/admin. Each blocks on the store.
#pragma once

#include "api/admin/handlers.h"
#include "api/admin/json_views.h"
#include "api/admin/router.h"

namespace garage::admin {

api_result<reply> handle(model::store& s, const list_keys_request& r);
api_result<reply> handle(model::store& s, const get_key_info_request& r);
api_result<reply> handle(model::store& s, const create_key_request& r);
api_result<reply> handle(model::store& s, const import_key_request& r);
api_result<reply> handle(model::store& s, const update_key_request& r);
api_result<reply> handle(model::store& s, const delete_key_request& r);

api_result<reply> handle(model::store& s, const list_buckets_request& r);
api_result<reply> handle(model::store& s, const get_bucket_info_request& r);
api_result<reply> handle(model::store& s, const create_bucket_request& r);
api_result<reply> handle(model::store& s, const update_bucket_request& r);
api_result<reply> handle(model::store& s, const delete_bucket_request& r);
api_result<reply> handle(model::store& s, const bucket_key_perm_request& r);
api_result<reply> handle(model::store& s, const bucket_alias_request& r);

// A 200 reply with a JSON document, or the error.
inline api_result<reply> json_reply(api_result<ojson> j) {
  if (!j) return std::move(j).error();
  return ok_reply(to_body(*j));
}

}  // namespace garage::admin
