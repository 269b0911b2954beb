#include "table/merkle.h"

#include <algorithm>

#include "util/codec.h"

namespace garage::table {

namespace {
constexpr uint8_t kNodeFormat = 1;
}

hash256 merkle_node::hash() const {
  switch (type) {
    case kind::empty:
      return hash256{};
    case kind::leaf:
    case kind::inner:
      return blake2b_256(encode());
  }
  return hash256{};
}

std::string merkle_node::encode() const {
  if (type == kind::empty) return {};
  encoder e;
  e.u8(kNodeFormat);
  e.u8(static_cast<uint8_t>(type));
  if (type == kind::leaf) {
    e.bytes(item_key);
    e.raw(value_hash.view());
  } else {
    e.varint(children.size());
    for (const auto& [b, h] : children) {
      e.u8(b);
      e.raw(h.view());
    }
  }
  return e.take();
}

result<merkle_node> merkle_node::decode(std::string_view bytes) {
  merkle_node n;
  if (bytes.empty()) return n;
  decoder d(bytes);
  uint8_t format = d.u8();
  uint8_t type = d.u8();
  if (d.failed() || format != kNodeFormat || (type != 1 && type != 2))
    return error(errc::corrupted, "merkle node: unknown format");
  n.type = static_cast<kind>(type);
  if (n.type == kind::leaf) {
    n.item_key = d.bytes();
    auto h = d.raw(32);
    if (!d.failed()) n.value_hash = hash256::from_raw(h);
  } else {
    uint64_t count = d.varint();
    if (count > 256) return error(errc::corrupted, "merkle node: too many children");
    for (uint64_t i = 0; i < count && !d.failed(); ++i) {
      uint8_t b = d.u8();
      auto h = d.raw(32);
      if (d.failed()) break;
      n.children.emplace_back(b, hash256::from_raw(h));
    }
  }
  if (!d.complete()) return error(errc::corrupted, "merkle node: truncated");
  return n;
}

result<std::unique_ptr<merkle_tree>> merkle_tree::open(db::database& db,
                                                       std::string_view table_name) {
  GARAGE_ASSIGN_OR_RETURN(db::tree * trie, db.open_tree(std::string(table_name) + ":merkle"));
  GARAGE_ASSIGN_OR_RETURN(db::tree * todo, db.open_tree(std::string(table_name) + ":merkle_todo"));
  return std::unique_ptr<merkle_tree>(new merkle_tree(db, trie, todo));
}

void merkle_tree::note_change(db::transaction& tx, std::string_view storage_key,
                              std::optional<std::string_view> new_bytes) const {
  tx.put(todo_, storage_key, new_bytes ? std::string(blake2b_256(*new_bytes).view()) : "");
}

uint64_t merkle_tree::pending() const { return db_.approximate_count(todo_); }

result<merkle_node> merkle_tree::node(std::string_view node_key) const {
  GARAGE_ASSIGN_OR_RETURN(auto bytes, db_.get(trie_, node_key));
  if (!bytes) return merkle_node{};
  return merkle_node::decode(*bytes);
}

result<hash256> merkle_tree::root_hash(uint8_t partition) const {
  GARAGE_ASSIGN_OR_RETURN(auto n, node(root_key(partition)));
  return n.hash();
}

result<merkle_node> merkle_tree::load(db::transaction& tx, std::string_view node_key) {
  GARAGE_ASSIGN_OR_RETURN(auto bytes, tx.get(trie_, node_key));
  if (!bytes) return merkle_node{};
  return merkle_node::decode(*bytes);
}

void merkle_tree::store(db::transaction& tx, std::string_view node_key, const merkle_node& n) {
  if (n.type == merkle_node::kind::empty)
    tx.del(trie_, node_key);
  else
    tx.put(trie_, node_key, n.encode());
}

result<size_t> merkle_tree::update(size_t max) {
  db::range r;
  r.limit = max;
  GARAGE_ASSIGN_OR_RETURN(auto items, db_.scan(todo_, r));
  if (items.empty()) return size_t{0};
  auto tx = db_.begin();
  for (const auto& item : items) {
    if (item.key.empty()) {
      tx->del(todo_, item.key);
      continue;
    }
    // Skip a record rewritten since the scan: the next round takes the new one.
    GARAGE_ASSIGN_OR_RETURN(auto now, tx->get(todo_, item.key));
    if (!now || *now != item.value) continue;
    std::optional<hash256> vh;
    if (item.value.size() == 32) vh = hash256::from_raw(item.value);
    const hash256 path = blake2b_256(item.key);
    GARAGE_TRY(update_rec(*tx, root_key(static_cast<uint8_t>(item.key[0])), path, 0, item.key, vh));
    tx->del(todo_, item.key);
  }
  GARAGE_TRY(tx->commit());
  return items.size();
}

result<std::optional<hash256>> merkle_tree::update_rec(db::transaction& tx,
                                                       const std::string& node_key,
                                                       const hash256& path, size_t depth,
                                                       const std::string& item_key,
                                                       const std::optional<hash256>& vh) {
  using kind = merkle_node::kind;
  GARAGE_ASSIGN_OR_RETURN(merkle_node n, load(tx, node_key));
  auto child_key = [&](uint8_t b) { return node_key + static_cast<char>(b); };
  switch (n.type) {
    case kind::empty: {
      if (!vh) return std::optional<hash256>();
      merkle_node leaf{kind::leaf, item_key, *vh, {}};
      store(tx, node_key, leaf);
      return std::optional<hash256>(leaf.hash());
    }
    case kind::leaf: {
      if (n.item_key == item_key) {
        if (!vh) {
          store(tx, node_key, merkle_node{});
          return std::optional<hash256>();
        }
        n.value_hash = *vh;
        store(tx, node_key, n);
        return std::optional<hash256>(n.hash());
      }
      if (!vh) return std::optional<hash256>(n.hash());  // removing an item that is not here
      if (depth >= 32) return error(errc::internal, "merkle: two items with the same path");
      // Split: the resident leaf moves one level down, then the new item goes in.
      const uint8_t old_b = blake2b_256(n.item_key).bytes[depth];
      store(tx, child_key(old_b), n);
      merkle_node inner{kind::inner, {}, {}, {{old_b, n.hash()}}};
      store(tx, node_key, inner);
      return update_rec(tx, node_key, path, depth, item_key, vh);
    }
    case kind::inner: {
      if (depth >= 32) return error(errc::corrupted, "merkle: inner node below the last level");
      const uint8_t b = path.bytes[depth];
      GARAGE_ASSIGN_OR_RETURN(auto child,
                              update_rec(tx, child_key(b), path, depth + 1, item_key, vh));
      auto it = std::find_if(n.children.begin(), n.children.end(),
                             [&](const auto& c) { return c.first == b; });
      if (child) {
        if (it != n.children.end())
          it->second = *child;
        else
          n.children.insert(
              std::upper_bound(n.children.begin(), n.children.end(),
                               std::pair<uint8_t, hash256>{b, hash256{}},
                               [](const auto& x, const auto& y) { return x.first < y.first; }),
              {b, *child});
      } else if (it != n.children.end()) {
        n.children.erase(it);
      }
      if (n.children.empty()) {
        store(tx, node_key, merkle_node{});
        return std::optional<hash256>();
      }
      if (n.children.size() == 1) {
        GARAGE_ASSIGN_OR_RETURN(merkle_node only, load(tx, child_key(n.children[0].first)));
        if (only.type == kind::leaf) {
          store(tx, child_key(n.children[0].first), merkle_node{});
          store(tx, node_key, only);
          return std::optional<hash256>(only.hash());
        }
      }
      store(tx, node_key, n);
      return std::optional<hash256>(n.hash());
    }
  }
  return error(errc::internal, "merkle: unknown node kind");
}

}  // namespace garage::table
