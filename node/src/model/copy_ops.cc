#include "model/copy_ops.h"

#include "model/ids.h"
#include "model/store.h"
#include "util/clock.h"

namespace garage::model {

namespace {

result<void> require_live_source(store& s, meta_tx& tx, std::string_view source_version_id) {
  GARAGE_ASSIGN_OR_RETURN(auto src, s.versions().get(tx, source_version_id, ""));
  if (!src || src->deleted) return error(errc::not_found, "the copy source was deleted");
  return ok();
}

}  // namespace

result<std::string> put_shared_blocks(store& s, std::string_view bucket_id, std::string_view key,
                                      object_meta meta, const version& data,
                                      std::string_view source_version_id) {
  auto tx = s.begin();
  GARAGE_TRY(require_live_source(s, *tx, source_version_id));
  version ver;
  ver.id = new_version_id();
  ver.bucket_id = std::string(bucket_id);
  ver.key = std::string(key);
  ver.updated_msec = now_msec();
  ver.blocks = data.blocks;
  for (const auto& [k, p] : data.parts) {
    if (k.attempt == 0) ver.parts.emplace(k, p);
  }
  GARAGE_TRY(s.versions().insert(*tx, ver));

  GARAGE_ASSIGN_OR_RETURN(auto existing, s.objects().get(*tx, bucket_id, key));
  uint64_t last = 0;
  if (existing) {
    for (const auto& v : existing->versions) last = std::max(last, v.timestamp);
  }
  object o;
  o.bucket_id = std::string(bucket_id);
  o.key = std::string(key);
  object_version v;
  v.id = ver.id;
  v.timestamp = next_timestamp(last);
  v.state = version_state::complete;
  v.data = version_data::blocks;
  v.meta = std::move(meta);
  o.versions.push_back(std::move(v));
  GARAGE_TRY(s.objects().insert(*tx, o));
  GARAGE_TRY(tx->commit());
  return ver.id;
}

result<void> add_shared_blocks(store& s, std::string_view upload_id, std::string_view bucket_id,
                               std::string_view key,
                               const std::vector<std::pair<block_location, version_block>>& blocks,
                               std::string_view source_version_id) {
  auto tx = s.begin();
  GARAGE_TRY(require_live_source(s, *tx, source_version_id));
  GARAGE_ASSIGN_OR_RETURN(auto existing, s.versions().get(*tx, upload_id, ""));
  if (!existing || existing->deleted) return error(errc::conflict, "the upload was aborted");
  version ver;
  ver.id = std::string(upload_id);
  ver.bucket_id = std::string(bucket_id);
  ver.key = std::string(key);
  ver.updated_msec = now_msec();
  for (const auto& [loc, b] : blocks) ver.blocks.emplace(loc, b);
  GARAGE_TRY(s.versions().insert(*tx, ver));
  return tx->commit();
}

std::vector<part_extent> part_extents(const version& v) {
  std::vector<part_extent> out;
  if (!v.parts.empty()) {
    uint64_t offset = 0;
    for (const auto& [k, p] : v.parts) {
      if (k.attempt != 0) continue;  // an upload in progress, not a completed object
      out.push_back({k.part_number, offset, p.size});
      offset += p.size;
    }
    if (!out.empty()) return out;
  }
  uint64_t offset = 0;
  for (const auto& [loc, b] : v.blocks) {
    if (out.empty() || out.back().part_number != loc.part_number) {
      out.push_back({loc.part_number, offset, 0});
    }
    out.back().size += b.size;
    offset += b.size;
  }
  return out;
}

}  // namespace garage::model
