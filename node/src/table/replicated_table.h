// replicated_table<S>: a table<S> whose entries live on the nodes a
// `replication` names, reached through an rpc::transport.
//
//   insert     sends the entry to every node of every write set and returns
//              once each set has a write quorum; each replica merges it into
//              its local table (running the schema's hook there).
//   get        asks the read nodes, returns once a read quorum answered, with
//              the merge of the answers; replicas that answered something older
//              (or nothing) are sent the merged entry in the background (read
//              repair).
//   get_range  the same for a range of one partition, page by page: each
//              replica returns its first `limit` entries, tombstones included,
//              and only the prefix of the merged union that every replica
//              covered is used, so a replica that missed an entry, or that
//              still has an entry another replica deleted, cannot change the
//              answer.
//
// Endpoints "table/<name>/put|get|range", registered on construction.
// Because entries are CRDTs, a write that reached fewer nodes than the quorum
// (the call failed) may still be visible later: it is not lost, and the
// caller's retry is harmless.
//
// Thread-safety: as table<S>. The local table, the replication and the
// transport must outlive this object; handlers stay registered on the
// transport, so destroy the transport (or stop it) first.
#pragma once

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rpc/quorum.h"
#include "rpc/transport.h"
#include "table/replication.h"
#include "table/sync.h"
#include "table/table.h"
#include "util/codec.h"
#include "util/hash.h"
#include "util/result.h"

namespace garage::table {

template <table_schema S>
class replicated_table {
 public:
  using entry = typename S::entry;
  using range_query = typename table<S>::range_query;

  replicated_table(table<S>& local, const replication& repl, rpc::transport& net,
                   rpc::call_options opts = {})
      : local_(local), repl_(repl), net_(net), opts_(opts) {
    const std::string base = "table/" + std::string(S::name) + "/";
    put_ep_ = base + "put";
    get_ep_ = base + "get";
    range_ep_ = base + "range";
    net_.register_handler(
        put_ep_, [this](const rpc::node_id&, std::string body) { return handle_put(body); });
    net_.register_handler(
        get_ep_, [this](const rpc::node_id&, std::string body) { return handle_get(body); });
    net_.register_handler(
        range_ep_, [this](const rpc::node_id&, std::string body) { return handle_range(body); });
  }
  replicated_table(const replicated_table&) = delete;
  replicated_table& operator=(const replicated_table&) = delete;

  table<S>& local() { return local_; }
  const replication& repl() const { return repl_; }

  // Anti-entropy for this table (Merkle tree, sync rounds, confirmed
  // tombstone GC). Call once, before serving.
  result<table_sync*> enable_sync() {
    if (!sync_) {
      GARAGE_ASSIGN_OR_RETURN(sync_,
                              table_sync::create(local_.store(), repl_, net_, put_ep_, opts_));
    }
    return sync_.get();
  }
  table_sync* sync() { return sync_.get(); }

  result<void> insert(const entry& e) { return insert_many(std::span<const entry>(&e, 1)); }

  // Entries of one partition travel in one call; partitions are written one
  // after the other, so a failure leaves earlier partitions written.
  result<void> insert_many(std::span<const entry> es) {
    // Held until every partition is written: the node acknowledges a newer
    // layout version only once no write computed without it is in flight.
    const auto writing = repl_.begin_write();
    std::map<hash256, std::vector<const entry*>> by_partition;
    for (const auto& e : es) by_partition[blake2b_256(e.partition_key())].push_back(&e);
    for (const auto& [h, group] : by_partition) {
      encoder enc;
      enc.varint(group.size());
      for (const entry* e : group) enc.bytes(e->encode());
      auto r = rpc::multi_quorum_call(net_, repl_.write_sets(h), put_ep_, enc.take(),
                                      repl_.write_quorum(), opts_);
      if (!r) {
        ++put_errors_;
        return r;
      }
      puts_ += group.size();
    }
    return ok();
  }

  // The entry at (pk, sk) as a read quorum knows it (tombstones included).
  result<std::optional<entry>> get(std::string_view pk, std::string_view sk) {
    return get_from(repl_.storage_nodes(blake2b_256(pk)), repl_.read_quorum(), pk, sk);
  }

  // The same from a majority of `nodes` (for fully replicated tables: a read
  // that must see every acknowledged write, e.g. before answering "no such
  // bucket").
  result<std::optional<entry>> get_from_majority(std::span<const node_id> nodes,
                                                 std::string_view pk, std::string_view sk) {
    return get_from({nodes.begin(), nodes.end()}, nodes.size() / 2 + 1, pk, sk);
  }

  result<std::vector<entry>> get_range(std::string_view pk, const range_query& q) {
    std::vector<entry> out;
    if (q.limit == 0) return out;
    const hash256 h = blake2b_256(pk);
    const auto nodes = repl_.storage_nodes(h);
    const size_t quorum = repl_.read_quorum();
    const size_t page = std::max<size_t>(q.limit, 64);
    std::string start = q.start_sk;
    // The first page includes start_sk itself; later ones start at the last
    // key seen, which is skipped (a reverse start cannot be made exclusive).
    std::optional<std::string> skip;
    for (;;) {
      encoder enc;
      enc.bytes(pk);
      enc.bytes(start);
      enc.boolean(q.reverse);
      enc.varint(page);
      ++gets_;
      auto answers_or = net_.quorum_call(nodes, range_ep_, enc.take(), quorum, opts_);
      if (!answers_or) {
        ++get_errors_;
        return std::move(answers_or).error();
      }
      auto& answers = *answers_or;
      // Per replica, its entries by sort key; and whether it filled the page.
      struct reply {
        node_id from;
        std::map<std::string, entry> entries;
        std::optional<std::string> last;  // last sort key when the page was full
      };
      std::vector<reply> replies;
      for (auto& [from, body] : answers) {
        GARAGE_ASSIGN_OR_RETURN(auto list, decode_list(body));
        reply r{from, {}, std::nullopt};
        if (list.size() >= page) r.last = list.back().sort_key();
        for (auto& e : list) {
          std::string sk = e.sort_key();
          r.entries.emplace(std::move(sk), std::move(e));
        }
        replies.push_back(std::move(r));
      }
      // Keys every replica covered: up to the smallest "last" of a full page.
      std::optional<std::string> bound;
      for (const auto& r : replies) {
        if (!r.last) continue;
        if (!bound || (q.reverse ? *r.last > *bound : *r.last < *bound)) bound = r.last;
      }
      std::map<std::string, entry> merged;
      for (const auto& r : replies) {
        for (const auto& [sk, e] : r.entries) {
          if (bound && (q.reverse ? sk < *bound : sk > *bound)) continue;
          auto [it, fresh] = merged.try_emplace(sk, e);
          if (!fresh) it->second.merge(e);
        }
      }
      for (const auto& r : replies) repair_range(r.from, r.entries, merged);
      auto emit = [&](const entry& e) {
        if (!q.include_tombstones && e.is_tombstone()) return;
        if (q.filter && !q.filter(e)) return;
        out.push_back(e);
      };
      std::optional<std::string> last_key;
      if (!q.reverse) {
        for (const auto& [sk, e] : merged) {
          if (skip && sk == *skip) continue;
          emit(e);
          last_key = sk;
          if (out.size() == q.limit) return out;
        }
      } else {
        for (auto it = merged.rbegin(); it != merged.rend(); ++it) {
          if (skip && it->first == *skip) continue;
          emit(it->second);
          last_key = it->first;
          if (out.size() == q.limit) return out;
        }
      }
      if (!bound || !last_key) return out;  // no replica had more
      start = *last_key;
      skip = *last_key;
    }
  }

 private:
  result<std::optional<entry>> get_from(std::vector<node_id> nodes, size_t quorum,
                                        std::string_view pk, std::string_view sk) {
    ++gets_;
    encoder enc;
    enc.bytes(pk);
    enc.bytes(sk);
    auto answers = net_.quorum_call(nodes, get_ep_, enc.take(), quorum, opts_);
    if (!answers) {
      ++get_errors_;
      return std::move(answers).error();
    }
    std::vector<std::pair<node_id, std::optional<entry>>> got;
    std::optional<entry> merged;
    for (auto& [from, body] : *answers) {
      GARAGE_ASSIGN_OR_RETURN(auto e, decode_optional(body));
      if (e) {
        if (merged)
          merged->merge(*e);
        else
          merged = *e;
      }
      got.emplace_back(from, std::move(e));
    }
    if (merged) {
      for (const auto& [from, e] : got) {
        if (!e || !(*e == *merged)) send_repair(from, {*merged});
      }
    }
    return merged;
  }

  void repair_range(const node_id& to, const std::map<std::string, entry>& had,
                    const std::map<std::string, entry>& merged) {
    std::vector<entry> behind;
    for (const auto& [sk, e] : merged) {
      auto it = had.find(sk);
      if (it == had.end() || !(it->second == e)) behind.push_back(e);
    }
    if (!behind.empty()) send_repair(to, behind);
  }

  // Fire and forget: a replica that misses this learns it from anti-entropy.
  void send_repair(const node_id& to, const std::vector<entry>& es) {
    encoder enc;
    enc.varint(es.size());
    for (const auto& e : es) enc.bytes(e.encode());
    ++repairs_sent_;
    net_.call_async(to, put_ep_, enc.take(), opts_, [](result<std::string>) {});
  }

  result<std::string> handle_put(std::string_view body) {
    GARAGE_ASSIGN_OR_RETURN(auto es, decode_list(body));
    GARAGE_TRY(local_.insert_many(es));
    return std::string();
  }

  result<std::string> handle_get(std::string_view body) {
    decoder d(body);
    std::string pk = d.bytes(), sk = d.bytes();
    if (!d.complete()) return error(errc::invalid_argument, get_ep_ + ": malformed request");
    GARAGE_ASSIGN_OR_RETURN(auto e, local_.get(pk, sk));
    encoder enc;
    enc.boolean(e.has_value());
    if (e) enc.bytes(e->encode());
    return enc.take();
  }

  result<std::string> handle_range(std::string_view body) {
    decoder d(body);
    std::string pk = d.bytes();
    range_query q;
    q.start_sk = d.bytes();
    q.reverse = d.boolean();
    q.limit = static_cast<size_t>(d.varint());
    q.include_tombstones = true;
    if (!d.complete() || q.limit > 100'000)
      return error(errc::invalid_argument, range_ep_ + ": malformed request");
    GARAGE_ASSIGN_OR_RETURN(auto es, local_.get_range(pk, q));
    encoder enc;
    enc.varint(es.size());
    for (const auto& e : es) enc.bytes(e.encode());
    return enc.take();
  }

  result<std::vector<entry>> decode_list(std::string_view body) const {
    decoder d(body);
    uint64_t n = d.varint();
    if (d.failed() || n > body.size()) return error(errc::corrupted, put_ep_ + ": malformed list");
    std::vector<entry> out;
    out.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      std::string bytes = d.bytes();
      if (d.failed()) break;
      GARAGE_ASSIGN_OR_RETURN(auto e, entry::decode(bytes));
      out.push_back(std::move(e));
    }
    if (!d.complete()) return error(errc::corrupted, put_ep_ + ": malformed list");
    return out;
  }

  result<std::optional<entry>> decode_optional(std::string_view body) const {
    decoder d(body);
    bool found = d.boolean();
    std::optional<entry> out;
    if (found) {
      std::string bytes = d.bytes();
      if (d.failed()) return error(errc::corrupted, get_ep_ + ": malformed answer");
      GARAGE_ASSIGN_OR_RETURN(auto e, entry::decode(bytes));
      out = std::move(e);
    }
    if (!d.complete()) return error(errc::corrupted, get_ep_ + ": malformed answer");
    return out;
  }

 public:
  // Read repairs sent so far (for tests and metrics).
  uint64_t repairs_sent() const { return repairs_sent_; }
  // Quorum reads (one per get and per get_range page) and entries written
  // with a quorum since start, and the calls of each that failed.
  uint64_t gets() const { return gets_; }
  uint64_t get_errors() const { return get_errors_; }
  uint64_t puts() const { return puts_; }
  uint64_t put_errors() const { return put_errors_; }

 private:
  table<S>& local_;
  const replication& repl_;
  rpc::transport& net_;
  rpc::call_options opts_;
  std::string put_ep_, get_ep_, range_ep_;
  std::atomic<uint64_t> repairs_sent_{0};
  std::atomic<uint64_t> gets_{0}, get_errors_{0}, puts_{0}, put_errors_{0};
  std::unique_ptr<table_sync> sync_;
};

}  // namespace garage::table
