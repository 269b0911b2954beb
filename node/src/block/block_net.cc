#include "block/block_net.h"

#include <algorithm>

#include "layout/partition.h"
#include "util/codec.h"
#include "util/log.h"

namespace garage::block {

namespace {

result<hash256> parse_id(std::string_view body) {
  if (body.size() < 32) return error(errc::invalid_argument, "block request without an id");
  return hash256::from_raw(body.substr(0, 32));
}

// The head of a "block/put" upload: the id, then u64be the size of the data.
std::string put_head(const hash256& id, uint64_t size) {
  encoder e;
  e.raw(id.view());
  e.u64be(size);
  return e.take();
}

}  // namespace

block_net::block_net(block_manager& mgr, rpc::layout_source layout, rpc::consistency_mode mode,
                     rpc::transport& net, rpc::call_options opts)
    : mgr_(mgr), layout_(std::move(layout)), mode_(mode), net_(net), opts_(opts) {
  // The data is written to a temp file as it arrives and becomes the block
  // only once it hashes to the id: never trust a peer's bytes.
  net_.register_upload_handler(
      "block/put",
      [this](const rpc::node_id&, std::string head, rpc::stream_reader& in) -> result<std::string> {
        if (head.size() != 40) return error(errc::invalid_argument, "block/put: bad request");
        hash256 id = hash256::from_raw(std::string_view(head).substr(0, 32));
        decoder d(std::string_view(head).substr(32));
        uint64_t size = d.u64be();
        if (size > max_block_size) {
          return error(errc::too_large, "block/put: a block of " + std::to_string(size) + " bytes");
        }
        GARAGE_TRY(mgr_.put_stream(id, size, [&] { return in.read(); }));
        return std::string();
      });
  // Streamed from the file as it is read (and decompressed); a copy found
  // corrupt on the way ends the stream with an error, and the caller checks
  // the hash of what it got in any case.
  net_.register_stream_handler(
      "block/get",
      [this](const rpc::node_id&, std::string body, rpc::stream_writer& out) -> result<void> {
        if (body.size() != 32) return error(errc::invalid_argument, "block/get: bad request");
        return mgr_.get_stream(hash256::from_raw(body),
                               [&](std::string_view piece) { return out.write(piece); });
      });
  net_.register_handler("block/has",
                        [this](const rpc::node_id&, std::string body) -> result<std::string> {
                          GARAGE_ASSIGN_OR_RETURN(hash256 id, parse_id(body));
                          if (body.size() != 32)
                            return error(errc::invalid_argument, "block/has: bad request");
                          return std::string(mgr_.exists(id) ? "1" : "0");
                        });
}

namespace {
// The partition of a block is that of its reference entries (model
// block_ref, whose partition key is the block id), so that the nodes that
// count a block's references are the nodes that store it.
uint32_t block_partition(const hash256& id) { return layout::partition_of(blake2b_256(id.view())); }
}  // namespace

std::vector<rpc::node_id> block_net::owners(const hash256& id) const {
  return layout_()->storage_nodes_of(block_partition(id));
}

result<void> block_net::put(const hash256& id, std::string_view data) {
  const auto writing = writes_ ? writes_->begin() : rpc::write_tracker::guard{};
  auto l = writing.layout() ? writing.layout() : layout_();
  auto sets = l->write_sets_of(block_partition(id));
  const size_t quorum = rpc::write_quorum_of(l->current().replication_factor(), mode_);
  return rpc::multi_quorum_upload(net_, sets, "block/put", put_head(id, data.size()), data, quorum,
                                  opts_);
}

result<void> block_net::upload_to(const rpc::node_id& n, const hash256& id, std::string_view data) {
  size_t off = 0;
  auto r = net_.call_upload(n, "block/put", put_head(id, data.size()), opts_,
                            [&]() -> result<std::optional<std::string>> {
                              if (off == data.size()) return std::optional<std::string>();
                              std::string piece(data.substr(off, 64 * 1024));
                              off += piece.size();
                              return std::optional<std::string>(std::move(piece));
                            });
  if (!r) return std::move(r).error();
  return ok();
}

std::vector<rpc::node_id> block_net::read_order(const hash256& id) const {
  auto l = layout_();
  auto nodes = l->storage_nodes_of(block_partition(id));
  const auto& roles = l->current().roles();
  auto self_role = roles.find(net_.self());
  std::string zone = self_role == roles.end() ? std::string() : self_role->second.zone;
  auto rank = [&](const rpc::node_id& n) {
    if (n == net_.self()) return std::pair<int, int64_t>{0, 0};
    auto r = roles.find(n);
    int same_zone = (r != roles.end() && !zone.empty() && r->second.zone == zone) ? 1 : 2;
    auto rtt = net_.rtt(n);
    int up = net_.is_up(n) ? 0 : 2;
    return std::pair<int, int64_t>{same_zone + up, rtt ? rtt->count() : INT64_MAX / 2};
  };
  std::stable_sort(nodes.begin(), nodes.end(),
                   [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  return nodes;
}

result<std::string> block_net::fetch_remote(const hash256& id) {
  std::string data;
  GARAGE_TRY(fetch_remote_stream(
      id,
      [&](std::string_view piece) -> result<void> {
        data.append(piece);
        return ok();
      },
      [&] { data.clear(); }));
  return data;
}

result<void> block_net::fetch_remote_stream(const hash256& id, const piece_sink& sink,
                                            const std::function<void()>& restart) {
  std::string errors;
  bool delivered = false;
  for (const auto& n : read_order(id)) {
    if (n == net_.self()) continue;
    blake2b_256_hasher hasher;
    uint64_t got = 0;
    auto r = net_.call_stream(
        n, "block/get", std::string(id.view()), opts_, [&](std::string_view piece) -> result<void> {
          got += piece.size();
          if (got > max_block_size) {
            return error(errc::too_large,
                         "block/get: more than " + std::to_string(max_block_size) + " bytes");
          }
          hasher.update(piece);
          delivered = true;
          return sink(piece);
        });
    if (r && hasher.finish() == id) return ok();
    if (r) r = error(errc::corrupted, "returned data that does not match the id");
    // What the sink got is bad: unless it can start over, no other node can
    // make it whole again.
    if (delivered && restart) {
      restart();
      delivered = false;
    }
    if (delivered)
      return error(r.error().code,
                   "block " + id.hex() + " from " + layout::short_id(n) + ": " + r.error().message);
    errors += (errors.empty() ? "" : "; ") + layout::short_id(n) + ": " + r.error().to_string();
  }
  return error(errc::unavailable,
               "block " + id.hex() + ": no node could serve it (" + errors + ")");
}

result<void> block_net::get_stream(const hash256& id, const piece_sink& sink) {
  if (mgr_.exists(id)) {
    // A local copy is read whole (it is verified before any byte leaves).
    auto local = mgr_.get(id);
    if (local) {
      for (size_t off = 0; off < local->size(); off += 64 * 1024) {
        GARAGE_TRY(sink(std::string_view(*local).substr(off, 64 * 1024)));
      }
      return ok();
    }
    LOG_WARN("block {}: local copy unreadable ({}), fetching from a peer", id.hex(),
             local.error().to_string());
    GARAGE_TRY(mgr_.queue_resync(id, 0));
  }
  return fetch_remote_stream(id, sink, nullptr);
}

result<std::string> block_net::get(const hash256& id) {
  if (mgr_.exists(id)) {
    auto local = mgr_.get(id);
    if (local) return local;
    // Corrupt here (moved aside by the manager): get a good copy and repair.
    LOG_WARN("block {}: local copy unreadable ({}), fetching from a peer", id.hex(),
             local.error().to_string());
    GARAGE_TRY(mgr_.queue_resync(id, 0));
  }
  return fetch_remote(id);
}

result<resync_stats> block_net::resync(uint64_t now_msec, size_t max, uint64_t retry_msec) {
  resync_stats st;
  GARAGE_ASSIGN_OR_RETURN(auto due, mgr_.take_resync(now_msec, max));
  for (const auto& id : due) {
    ++st.checked;
    auto fail = [&](const error& e) -> result<void> {
      ++st.errors;
      ++totals_.resync_errors;
      st.last_error = id.hex() + ": " + e.to_string();
      return mgr_.queue_resync(id, now_msec + retry_msec);
    };
    const auto own = owners(id);
    const bool mine = std::find(own.begin(), own.end(), net_.self()) != own.end();
    const bool have = mgr_.exists(id);
    GARAGE_ASSIGN_OR_RETURN(uint64_t count, mgr_.refcount(id));
    if (mine && count > 0 && !have) {
      auto data = fetch_remote(id);
      if (!data) {
        GARAGE_TRY(fail(data.error()));
        continue;
      }
      GARAGE_TRY(mgr_.put(id, *data));
      ++st.fetched;
      ++totals_.resync_fetched;
    } else if (!mine && have && !own.empty()) {
      // Hand over: every owner must hold it before the local copy goes.
      auto data = mgr_.get(id);
      if (!data) {
        GARAGE_TRY(fail(data.error()));
        continue;
      }
      bool all = true;
      for (const auto& n : own) {
        auto has = net_.call(n, "block/has", std::string(id.view()), opts_);
        if (has && *has == "1") continue;
        auto put = has ? upload_to(n, id, *data) : result<void>(has.error());
        if (!put) {
          all = false;
          GARAGE_TRY(fail(put.error()));
          break;
        }
      }
      if (!all) continue;
      GARAGE_TRY(mgr_.drop_local(id));
      ++st.offloaded;
      ++totals_.resync_offloaded;
    }
  }
  return st;
}

bool block_net::keep_for_owners(const hash256& id, uint64_t now_msec) {
  const auto own = owners(id);
  if (own.empty()) return true;  // no layout: nobody to ask, keep it
  if (std::find(own.begin(), own.end(), net_.self()) != own.end()) return false;
  for (const auto& n : own) {
    auto has = net_.call(n, "block/has", std::string(id.view()), opts_);
    if (!has || *has != "1") {
      (void)mgr_.queue_resync(id, now_msec);
      return true;
    }
  }
  return false;
}

result<size_t> block_net::queue_all(uint64_t due_msec) {
  std::optional<hash256> after;
  size_t n = 0;
  for (;;) {
    GARAGE_ASSIGN_OR_RETURN(auto ids, mgr_.list_counted(after, 1000));
    for (const auto& id : ids) GARAGE_TRY(mgr_.queue_resync(id, due_msec));
    n += ids.size();
    if (ids.size() < 1000) return n;
    after = ids.back();
  }
}

block_net_totals block_net::totals() const {
  return {totals_.resync_fetched.load(),  totals_.resync_offloaded.load(),
          totals_.resync_errors.load(),   totals_.scrub_checked.load(),
          totals_.scrub_corrupted.load(), totals_.scrub_missing.load()};
}

result<scrub_stats> block_net::scrub(std::optional<hash256>* cursor, size_t max,
                                     uint64_t now_msec) {
  scrub_stats st;
  GARAGE_ASSIGN_OR_RETURN(auto ids, mgr_.list_counted(*cursor, max));
  for (const auto& id : ids) {
    ++st.checked;
    ++totals_.scrub_checked;
    GARAGE_ASSIGN_OR_RETURN(uint64_t count, mgr_.refcount(id));
    if (count == 0) continue;
    if (!mgr_.exists(id)) {
      ++st.missing;
      ++totals_.scrub_missing;
      GARAGE_TRY(mgr_.queue_resync(id, now_msec));
      continue;
    }
    auto r = mgr_.get(id);
    if (!r && r.error().code == errc::corrupted) {
      ++st.corrupted;
      ++totals_.scrub_corrupted;
      GARAGE_TRY(mgr_.queue_resync(id, now_msec));
    }
  }
  *cursor = ids.size() < max ? std::nullopt : std::optional<hash256>(ids.back());
  return st;
}

}  // namespace garage::block
