#include "model/multipart_ops.h"

#include <fmt/format.h>

#include "model/ids.h"
#include "model/store.h"
#include "util/clock.h"

namespace garage::model {

namespace {

result<upload_info> load_upload(store& s, meta_tx* tx, std::string_view bucket_id,
                                std::string_view key, std::string_view upload_id) {
  auto obj = tx ? s.objects().get(*tx, bucket_id, key) : s.objects().get(bucket_id, key);
  if (!obj) return std::move(obj).error();
  const object_version* v = *obj ? (*obj)->find(upload_id) : nullptr;
  if (!v || v->state != version_state::uploading || !v->multipart) {
    return error(errc::not_found, "no such upload");
  }
  auto ver = tx ? s.versions().get(*tx, upload_id, "") : s.versions().get(upload_id, "");
  if (!ver) return std::move(ver).error();
  if (!*ver || (*ver)->deleted) return error(errc::not_found, "no such upload");
  return upload_info{*v, std::move(**ver)};
}

}  // namespace

result<upload_info> get_upload(store& s, std::string_view bucket_id, std::string_view key,
                               std::string_view upload_id) {
  return load_upload(s, nullptr, bucket_id, key, upload_id);
}

result<void> add_part(store& s, std::string_view upload_id, std::string_view bucket_id,
                      std::string_view key, part_key part, part_info info) {
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto existing, s.versions().get(*tx, upload_id, ""));
  if (!existing || existing->deleted) return error(errc::not_found, "no such upload");
  version ver;
  ver.id = std::string(upload_id);
  ver.bucket_id = std::string(bucket_id);
  ver.key = std::string(key);
  ver.updated_msec = now_msec();
  ver.parts.emplace(part, std::move(info));
  GARAGE_TRY(s.versions().insert(*tx, ver));
  return tx->commit();
}

result<std::vector<object>> objects_with_uploads(store& s, std::string_view bucket_id,
                                                 std::string_view start, size_t limit) {
  object_table::range_query q;
  q.start_sk = std::string(start);
  q.limit = limit;
  q.include_tombstones = true;  // an object deleted meanwhile may still have uploads
  q.filter = [](const object& o) {
    for (const auto& v : o.versions) {
      if (v.state == version_state::uploading && v.multipart) return true;
    }
    return false;
  };
  return s.objects().get_range(bucket_id, q);
}

std::vector<std::pair<part_key, part_info>> latest_parts(const version& v) {
  std::vector<std::pair<part_key, part_info>> out;
  for (const auto& [k, p] : v.parts) {  // sorted by (part number, attempt)
    if (!out.empty() && out.back().first.part_number == k.part_number) {
      out.back() = {k, p};
    } else {
      out.emplace_back(k, p);
    }
  }
  return out;
}

result<std::string> complete_multipart(store& s, std::string_view bucket_id, std::string_view key,
                                       std::string_view upload_id,
                                       const std::vector<part_key>& chosen, object_meta meta,
                                       const write_precondition& pre) {
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto up, load_upload(s, tx.get(), bucket_id, key, upload_id));
  version final_version;
  final_version.id = new_version_id();
  final_version.bucket_id = std::string(bucket_id);
  final_version.key = std::string(key);
  final_version.updated_msec = now_msec();
  for (const auto& part : chosen) {
    auto info = up.blocks.parts.find(part);
    if (info == up.blocks.parts.end()) {
      return error(errc::invalid_argument,
                   fmt::format("part {} was not uploaded", part.part_number));
    }
    final_version.parts.emplace(part_key{part.part_number, 0}, info->second);
    for (const auto& [loc, b] : up.blocks.blocks) {
      if (loc.part_number == part.part_number && loc.attempt == part.attempt) {
        final_version.blocks.emplace(block_location{part.part_number, 0, loc.offset}, b);
      }
    }
  }
  GARAGE_TRY(s.versions().insert(*tx, final_version));

  GARAGE_ASSIGN_OR_RETURN(auto existing, s.objects().get(*tx, bucket_id, key));
  GARAGE_TRY(check_precondition(existing, pre));
  object o;
  o.bucket_id = std::string(bucket_id);
  o.key = std::string(key);
  object_version done;
  done.id = final_version.id;
  uint64_t last = 0;
  if (existing) {
    for (const auto& v : existing->versions) last = std::max(last, v.timestamp);
  }
  done.timestamp = next_timestamp(last);
  done.state = version_state::complete;
  done.data = version_data::blocks;
  done.meta = std::move(meta);
  object_version aborted = up.upload;
  aborted.state = version_state::aborted;
  o.versions = {aborted, done};
  GARAGE_TRY(s.objects().insert(*tx, o));
  GARAGE_TRY(tx->commit());
  return final_version.id;
}

}  // namespace garage::model
