// Access key operations: ListKeys, GetKeyInfo, CreateKey, ImportKey,
// UpdateKey, DeleteKey.
#include "api/admin/handler_set.h"
#include "model/key_ops.h"
#include "model/store.h"

namespace garage::admin {

api_result<reply> handle(model::store& s, const list_keys_request&) {
  auto keys = model::list_keys(s);
  if (!keys) return from_model_error(keys.error(), subject::key);
  ojson out = ojson::array();
  for (const auto& k : *keys) {
    ojson item;
    item["id"] = k.id;
    item["name"] = k.name.value;
    item["created"] = nullptr;
    item["expiration"] = nullptr;
    item["expired"] = false;
    out.push_back(std::move(item));
  }
  return ok_reply(to_body(out));
}

api_result<reply> handle(model::store& s, const get_key_info_request& r) {
  auto k = r.id ? model::get_key(s, *r.id) : model::find_key(s, *r.search);
  if (!k) return from_model_error(k.error(), subject::key);
  return json_reply(key_info_json(s, *k, r.show_secret));
}

api_result<reply> handle(model::store& s, const create_key_request& r) {
  auto k = model::create_key(s, r.name);
  if (!k) return from_model_error(k.error(), subject::key);
  // Garage returns the secret once, in the reply of CreateKey.
  return json_reply(key_info_json(s, *k, true));
}

api_result<reply> handle(model::store& s, const import_key_request& r) {
  auto k = model::import_key(s, r.access_key_id, r.secret_access_key, r.name);
  if (!k) return from_model_error(k.error(), subject::key);
  return json_reply(key_info_json(s, *k, false));
}

api_result<reply> handle(model::store& s, const update_key_request& r) {
  auto k = model::update_key(s, r.id, r.name, r.allow_create_bucket);
  if (!k) return from_model_error(k.error(), subject::key);
  return json_reply(key_info_json(s, *k, false));
}

api_result<reply> handle(model::store& s, const delete_key_request& r) {
  auto d = model::delete_key(s, r.id);
  if (!d) return from_model_error(d.error(), subject::key);
  return ok_reply({});
}

}  // namespace garage::admin
