#include "table/sync.h"

#include <algorithm>

#include "util/codec.h"
#include "util/encoding.h"
#include "util/log.h"

namespace garage::table {

namespace {
constexpr size_t kPushBatch = 100;
}

table_sync::table_sync(table_store& store, merkle_tree* merkle, const replication& repl,
                       rpc::transport& net, std::string put_endpoint, rpc::call_options opts)
    : store_(store),
      merkle_(merkle),
      repl_(repl),
      net_(net),
      put_ep_(std::move(put_endpoint)),
      merkle_ep_("table/" + store.name() + "/merkle"),
      gc_ep_("table/" + store.name() + "/gc_delete"),
      opts_(opts) {}

result<std::unique_ptr<table_sync>> table_sync::create(table_store& store, const replication& repl,
                                                       rpc::transport& net,
                                                       std::string put_endpoint,
                                                       rpc::call_options opts) {
  const bool had_tree = store.merkle() != nullptr;
  GARAGE_ASSIGN_OR_RETURN(merkle_tree * m, store.enable_merkle());
  if (!had_tree) {
    // A tree is derived state: (re)queue every entry; unchanged ones leave the
    // trie as it was.
    GARAGE_TRY(store.rebuild_merkle());
  }
  auto s = std::unique_ptr<table_sync>(
      new table_sync(store, m, repl, net, std::move(put_endpoint), opts));
  table_sync* self = s.get();
  net.register_handler(self->merkle_ep_, [self](const rpc::node_id&, std::string body) {
    return self->handle_merkle(body);
  });
  net.register_handler(self->gc_ep_, [self](const rpc::node_id&, std::string body) {
    return self->handle_gc_delete(body);
  });
  return s;
}

result<std::string> table_sync::handle_merkle(std::string_view body) {
  if (body.empty() || body.size() > 33) return error(errc::invalid_argument, "bad merkle node key");
  GARAGE_ASSIGN_OR_RETURN(auto n, merkle_->node(body));
  return n.encode();
}

result<std::string> table_sync::handle_gc_delete(std::string_view body) {
  decoder d(body);
  uint64_t n = d.varint();
  if (d.failed() || n > body.size()) return error(errc::invalid_argument, "bad gc_delete list");
  std::vector<std::pair<std::string, hash256>> items;
  for (uint64_t i = 0; i < n && !d.failed(); ++i) {
    std::string key = d.bytes();
    auto h = d.raw(32);
    if (d.failed()) break;
    items.emplace_back(std::move(key), hash256::from_raw(h));
  }
  if (!d.complete()) return error(errc::invalid_argument, "bad gc_delete list");
  for (const auto& [key, h] : items) GARAGE_TRY(store_.remove_if_unchanged(key, h));
  return std::string();
}

result<void> table_sync::push(const node_id& peer, const std::vector<std::string>& items) {
  for (size_t i = 0; i < items.size(); i += kPushBatch) {
    size_t end = std::min(items.size(), i + kPushBatch);
    encoder enc;
    std::vector<std::string> bytes;
    for (size_t j = i; j < end; ++j) {
      GARAGE_ASSIGN_OR_RETURN(auto b, store_.get(nullptr, items[j]));
      if (b) bytes.push_back(std::move(*b));
    }
    enc.varint(bytes.size());
    for (const auto& b : bytes) enc.bytes(b);
    GARAGE_TRY(net_.call(peer, put_ep_, enc.take(), opts_));
  }
  return ok();
}

result<size_t> table_sync::sync_partition(uint8_t partition, const node_id& peer) {
  std::vector<std::string> todo{merkle_tree::root_key(partition)};
  std::vector<std::string> items;
  while (!todo.empty()) {
    std::string key = std::move(todo.back());
    todo.pop_back();
    GARAGE_ASSIGN_OR_RETURN(merkle_node local, merkle_->node(key));
    if (local.type == merkle_node::kind::empty) continue;  // the peer pushes what it has
    GARAGE_ASSIGN_OR_RETURN(auto remote_bytes, net_.call(peer, merkle_ep_, key, opts_));
    GARAGE_ASSIGN_OR_RETURN(merkle_node remote, merkle_node::decode(remote_bytes));
    if (local.hash() == remote.hash()) continue;
    if (local.type == merkle_node::kind::leaf) {
      items.push_back(local.item_key);
      continue;
    }
    for (const auto& [b, h] : local.children) {
      if (remote.type == merkle_node::kind::inner) {
        auto it = std::find_if(remote.children.begin(), remote.children.end(),
                               [&](const auto& c) { return c.first == b; });
        if (it != remote.children.end() && it->second == h) continue;
      }
      todo.push_back(key + static_cast<char>(b));
    }
  }
  GARAGE_TRY(push(peer, items));
  return items.size();
}

result<size_t> table_sync::offload_partition(uint8_t partition) {
  const hash256 ph = partition_hash(partition);
  size_t dropped = 0;
  db::range r;
  r.start = std::string(1, static_cast<char>(partition));
  if (partition != 0xff) r.end = std::string(1, static_cast<char>(partition + 1));
  r.limit = kPushBatch;
  for (;;) {
    auto nodes = repl_.sync_nodes(ph);
    if (nodes.empty()) return error(errc::unavailable, "no node stores the partition");
    if (std::find(nodes.begin(), nodes.end(), net_.self()) != nodes.end()) return dropped;
    GARAGE_ASSIGN_OR_RETURN(auto batch, store_.scan(r));
    if (batch.empty()) return dropped;
    encoder enc;
    enc.varint(batch.size());
    for (const auto& kv : batch) enc.bytes(kv.value);
    // Every new owner must hold the entries before they are dropped here.
    GARAGE_TRY(net_.quorum_call(nodes, put_ep_, enc.take(), nodes.size(), opts_));
    for (const auto& kv : batch) {
      GARAGE_ASSIGN_OR_RETURN(bool gone, store_.remove_if_unchanged(kv.key, blake2b_256(kv.value)));
      dropped += gone;
    }
    if (batch.size() < r.limit) return dropped;
    r.start = batch.back().key + '\0';
  }
}

result<sync_stats> table_sync::sync_all() {
  std::lock_guard lk(round_mu_);
  sync_stats st;
  for (;;) {
    GARAGE_ASSIGN_OR_RETURN(size_t n, merkle_->update());
    if (n == 0) break;
  }
  auto fail = [&](const error& e) {
    ++st.errors;
    st.last_error = e.to_string();
  };
  for (uint32_t p = 0; p < 256; ++p) {
    const auto nodes = repl_.sync_nodes(partition_hash(static_cast<uint8_t>(p)));
    const bool mine = std::find(nodes.begin(), nodes.end(), net_.self()) != nodes.end();
    if (!mine) {
      GARAGE_ASSIGN_OR_RETURN(auto root, merkle_->root_hash(static_cast<uint8_t>(p)));
      if (root == hash256{} || nodes.empty()) continue;
      auto r = offload_partition(static_cast<uint8_t>(p));
      if (r)
        st.items_offloaded += *r;
      else
        fail(r.error());
      continue;
    }
    for (const auto& peer : nodes) {
      if (peer == net_.self()) continue;
      if (!net_.is_up(peer)) {
        // A node that left the layout after syncing (or that an operator
        // declared dead) has nothing to receive: not an error.
        if (repl_.sync_can_skip(peer)) continue;
        fail(error(errc::unavailable, "peer " + layout::short_id(peer) + " is down"));
        continue;
      }
      ++st.partitions_compared;
      auto r = sync_partition(static_cast<uint8_t>(p), peer);
      if (!r) {
        fail(r.error());
        continue;
      }
      if (*r) {
        ++st.partitions_differing;
        st.items_pushed += *r;
      }
    }
  }
  ++rounds_;
  pushed_ += st.items_pushed;
  offloaded_ += st.items_offloaded;
  errors_ += st.errors;
  if (st.errors)
    LOG_DEBUG("table {}: sync round had {} errors, last: {}", name(), st.errors, st.last_error);
  return st;
}

result<void> table_sync::confirm_tombstone(const std::string& key, const std::string& bytes) {
  if (key.empty()) return error(errc::invalid_argument, "empty key");
  const auto nodes = repl_.sync_nodes(partition_hash(static_cast<uint8_t>(key[0])));
  std::vector<node_id> others;
  for (const auto& n : nodes)
    if (n != net_.self()) others.push_back(n);
  if (others.empty()) return ok();
  // 1. Every other replica holds the tombstone (merging it is harmless).
  encoder put;
  put.varint(1);
  put.bytes(bytes);
  GARAGE_TRY(net_.quorum_call(others, put_ep_, put.take(), others.size(), opts_));
  // 2. Every other replica drops it if nothing newer arrived.
  encoder del;
  del.varint(1);
  del.bytes(key);
  del.raw(blake2b_256(bytes).view());
  GARAGE_TRY(net_.quorum_call(others, gc_ep_, del.take(), others.size(), opts_));
  return ok();
}

result<size_t> table_sync::collect_tombstones(uint64_t now_msec, uint64_t delay_msec) {
  return store_.collect_tombstones(now_msec, delay_msec,
                                   [this](const std::string& key, const std::string& bytes) {
                                     return confirm_tombstone(key, bytes);
                                   });
}

}  // namespace garage::table
