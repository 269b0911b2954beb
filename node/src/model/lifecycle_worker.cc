#include "model/lifecycle_worker.h"

#include <fmt/format.h>

#include <algorithm>

#include "model/bucket_ops.h"
#include "model/ids.h"
#include "model/lifecycle.h"
#include "model/object_ops.h"
#include "model/store.h"
#include "util/clock.h"
#include "util/log.h"

namespace garage::model {

namespace {

constexpr size_t kPage = 500;

// Deletes the object if its current version is still `version_id` (a write
// since the scan wins over the rule), in one transaction.
result<bool> expire_object(store& s, std::string_view bucket_id, std::string_view key,
                           std::string_view version_id) {
  auto tx = s.begin();
  GARAGE_ASSIGN_OR_RETURN(auto existing, s.objects().get(*tx, bucket_id, key));
  const object_version* cur = existing ? existing->current() : nullptr;
  if (!cur || cur->id != version_id) return false;
  uint64_t last = 0;
  for (const auto& v : existing->versions) last = std::max(last, v.timestamp);
  object o;
  o.bucket_id = std::string(bucket_id);
  o.key = std::string(key);
  object_version marker;
  marker.id = new_version_id();
  marker.timestamp = next_timestamp(last);
  marker.state = version_state::complete;
  marker.data = version_data::delete_marker;
  o.versions.push_back(std::move(marker));
  GARAGE_TRY(s.objects().insert(*tx, o));
  GARAGE_TRY(tx->commit());
  return true;
}

result<void> process_bucket(store& s, const std::string& bucket_id, const lifecycle_config& conf,
                            uint64_t now, lifecycle_stats& stats) {
  std::string start;
  while (true) {
    object_table::range_query q;
    q.start_sk = start;
    q.limit = kPage;
    q.include_tombstones = true;  // uploads may remain on a deleted object
    GARAGE_ASSIGN_OR_RETURN(auto page, s.objects().get_range(bucket_id, q));
    for (const auto& o : page) {
      if (const object_version* cur = o.current()) {
        for (const auto& r : conf.rules) {
          if (!filter_matches(r.filter, o.key, cur->meta.size)) continue;
          if (!object_expired(r, cur->timestamp, now)) continue;
          GARAGE_ASSIGN_OR_RETURN(bool done, expire_object(s, bucket_id, o.key, cur->id));
          if (done) ++stats.expired;
          break;
        }
      }
      for (const auto& v : o.versions) {
        if (v.state != version_state::uploading || !v.multipart) continue;
        // Size filters do not apply to uploads: their size is not known yet.
        bool due = std::any_of(conf.rules.begin(), conf.rules.end(), [&](const lifecycle_rule& r) {
          return o.key.starts_with(r.filter.prefix) && upload_abort_due(r, v.timestamp, now);
        });
        if (!due) continue;
        GARAGE_TRY(abort_upload(s, bucket_id, o.key, v.id));
        ++stats.aborted;
      }
    }
    if (page.size() < kPage) return ok();
    start = page.back().key;
    start.push_back('\0');
  }
}

}  // namespace

result<lifecycle_stats> run_lifecycle(store& s, uint64_t now_msec) {
  lifecycle_stats stats;
  const uint64_t interval_msec = std::max<uint64_t>(1, s.cfg().lifecycle_interval_secs) * 1000;
  const uint64_t now = now_msec + s.cfg().lifecycle_clock_offset_secs * 1000;
  const std::string period = std::to_string(now / interval_msec);
  GARAGE_ASSIGN_OR_RETURN(auto* runs, s.db().open_tree("lifecycle_runs"));
  GARAGE_ASSIGN_OR_RETURN(auto buckets, scan_entries(s.buckets(), [](const bucket& b) {
                            return !b.deleted && !b.lifecycle.value.empty();
                          }));
  for (const auto& b : buckets) {
    GARAGE_ASSIGN_OR_RETURN(auto last, s.db().get(runs, b.id));
    if (last && *last == period) continue;
    auto conf = lifecycle_from_json(b.lifecycle.value);
    if (!conf) {
      LOG_WARN("lifecycle: bucket {}: {}", b.id, conf.error().to_string());
      continue;
    }
    GARAGE_TRY(process_bucket(s, b.id, *conf, now, stats));
    ++stats.buckets;
    auto tx = s.db().begin();  // this node's own record of its runs
    tx->put(runs, b.id, period);
    GARAGE_TRY(tx->commit());
  }
  return stats;
}

}  // namespace garage::model
