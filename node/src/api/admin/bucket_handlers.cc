// Bucket operations: ListBuckets, GetBucketInfo, CreateBucket, UpdateBucket,
// DeleteBucket, AllowBucketKey / DenyBucketKey, AddBucketAlias /
// RemoveBucketAlias.
#include <fmt/format.h>

#include "api/admin/handler_set.h"
#include "model/bucket_config.h"
#include "model/bucket_ops.h"
#include "model/key_ops.h"
#include "model/store.h"
#include "model/website_config.h"

namespace garage::admin {
namespace {

api_result<model::bucket> load_bucket(model::store& s, std::string_view id) {
  auto b = model::get_bucket(s, id);
  if (!b) return from_model_error(b.error(), subject::bucket);
  return std::move(*b);
}

// GetBucketInfo?search=: an exact global alias, else a unique id prefix.
api_result<model::bucket> search_bucket(model::store& s, std::string_view pattern) {
  if (pattern.empty()) return bad_request("empty bucket search pattern");
  auto id = model::resolve_alias(s, pattern);
  if (id) return load_bucket(s, *id);
  if (id.error().code != errc::not_found) return from_model_error(id.error(), subject::bucket);
  auto all = model::list_buckets(s);
  if (!all) return from_model_error(all.error(), subject::bucket);
  std::vector<model::bucket> matches;
  for (auto& b : *all)
    if (b.id.starts_with(pattern)) matches.push_back(std::move(b));
  if (matches.empty())
    return api_error{404, "NoSuchBucket", fmt::format("no bucket matches {}", pattern)};
  if (matches.size() > 1)
    return bad_request(
        fmt::format("{} buckets match {}; give more of the id", matches.size(), pattern));
  return std::move(matches.front());
}

api_result<reply> bucket_reply(model::store& s, std::string_view id) {
  auto b = load_bucket(s, id);
  if (!b) return std::move(b).error();
  return json_reply(bucket_info_json(s, *b));
}

}  // namespace

api_result<reply> handle(model::store& s, const list_buckets_request&) {
  auto all = model::list_buckets(s);
  if (!all) return from_model_error(all.error(), subject::bucket);
  ojson out = ojson::array();
  for (const auto& b : *all) out.push_back(bucket_list_item_json(b));
  return ok_reply(to_body(out));
}

api_result<reply> handle(model::store& s, const get_bucket_info_request& r) {
  api_result<model::bucket> b = api_error{};
  if (r.id) {
    b = load_bucket(s, *r.id);
  } else if (r.global_alias) {
    auto id = model::resolve_alias(s, *r.global_alias);
    if (!id) return from_model_error(id.error(), subject::bucket);
    b = load_bucket(s, *id);
  } else {
    b = search_bucket(s, *r.search);
  }
  if (!b) return std::move(b).error();
  return json_reply(bucket_info_json(s, *b));
}

api_result<reply> handle(model::store& s, const create_bucket_request& r) {
  if (r.local_key_id) {
    // Checked first so that a bad key or name leaves no bucket behind.
    auto k = model::get_key(s, *r.local_key_id);
    if (!k) return from_model_error(k.error(), subject::key);
    if (!model::is_valid_bucket_name(r.local_alias))
      return bad_request("invalid bucket name: " + r.local_alias);
    if (model::local_alias_target(*k, r.local_alias))
      return api_error{409, "BucketAlreadyExists",
                       "key " + k->id + " already has a local alias " + r.local_alias};
  }
  auto b = model::create_bucket(s, r.global_alias, std::nullopt);
  if (!b) return from_model_error(b.error(), subject::bucket);
  if (r.local_key_id) {
    auto a = model::add_local_alias(s, b->id, *r.local_key_id, r.local_alias);
    if (!a) return from_model_error(a.error(), subject::bucket);
    if (r.local_allow.any()) {
      auto p = model::allow_key(s, b->id, *r.local_key_id, r.local_allow);
      if (!p) return from_model_error(p.error(), subject::bucket);
    }
  }
  return bucket_reply(s, b->id);
}

api_result<reply> handle(model::store& s, const update_bucket_request& r) {
  auto b = load_bucket(s, r.id);
  if (!b) return std::move(b).error();
  if (r.website) {
    // Website access is having a website configuration (as PutBucketWebsite
    // gives one); disabling removes it.
    std::string doc;
    if (r.website->enabled) {
      model::website_config w;
      w.index_document = r.website->index_document;
      w.error_document = r.website->error_document;
      doc = model::website_to_json(w);
    }
    auto done =
        model::set_bucket_document(s, r.id, model::bucket_document::website, std::move(doc));
    if (!done) return from_model_error(done.error(), subject::bucket);
  }
  if (r.quotas) {
    auto done = model::set_bucket_quotas(s, r.id, {r.quotas->max_size, r.quotas->max_objects});
    if (!done) return from_model_error(done.error(), subject::bucket);
  }
  return bucket_reply(s, r.id);
}

api_result<reply> handle(model::store& s, const delete_bucket_request& r) {
  auto b = load_bucket(s, r.id);
  if (!b) return std::move(b).error();
  auto d = model::delete_bucket(s, r.id);
  if (!d) {
    if (d.error().code == errc::conflict) {
      return api_error{
          409, "BucketNotEmpty",
          fmt::format("bucket {} is not empty: delete its objects and uploads first", r.id)};
    }
    return from_model_error(d.error(), subject::bucket);
  }
  return ok_reply({});
}

api_result<reply> handle(model::store& s, const bucket_key_perm_request& r) {
  auto b = load_bucket(s, r.bucket_id);
  if (!b) return std::move(b).error();
  auto k = model::get_key(s, r.access_key_id);
  if (!k) return from_model_error(k.error(), subject::key);
  auto done = r.allow ? model::allow_key(s, r.bucket_id, r.access_key_id, r.perm)
                      : model::deny_key(s, r.bucket_id, r.access_key_id, r.perm);
  if (!done) return from_model_error(done.error(), subject::bucket);
  return bucket_reply(s, r.bucket_id);
}

api_result<reply> handle(model::store& s, const bucket_alias_request& r) {
  auto b = load_bucket(s, r.bucket_id);
  if (!b) return std::move(b).error();
  result<void> done = ok();
  if (r.access_key_id) {
    auto k = model::get_key(s, *r.access_key_id);
    if (!k) return from_model_error(k.error(), subject::key);
    done = r.add ? model::add_local_alias(s, r.bucket_id, *r.access_key_id, r.global_alias)
                 : model::remove_local_alias(s, r.bucket_id, *r.access_key_id, r.global_alias);
  } else {
    done = r.add ? model::add_alias(s, r.bucket_id, r.global_alias)
                 : model::remove_alias(s, r.bucket_id, r.global_alias);
  }
  if (!done) return from_model_error(done.error(), subject::bucket);
  return bucket_reply(s, r.bucket_id);
}

}  // namespace garage::admin
