// merkle_tree: a Merkle trie per table, per partition, over the table's
// stored entries, so that two replicas find the entries they disagree on by
// exchanging a few node hashes instead of every entry (anti-entropy).
//
// Layout in the database (trees "<table>:merkle" and "<table>:merkle_todo"):
//   todo  storage key → blake2b_256(entry bytes), or "" for a removed entry;
//         written in the same transaction as the entry (note_change), so the
//         tree can never miss a change, and folded into the tree by update().
//   trie  node key → node. A node key is the partition byte (the first byte
//         of the storage key) followed by a path: the first bytes of
//         blake2b_256(storage key). A node is a leaf (one item: its storage
//         key and value hash) or an inner node (child byte → child hash);
//         an empty subtree has no node. A leaf's hash does not depend on its
//         depth, so a subtree left with one leaf collapses into it.
// Two replicas holding the same entries of a partition have the same root
// hash once their todo queues are empty, whatever order the changes came in.
//
// Thread-safety: note_change runs inside the caller's transaction; update()
// and the readers may run from any thread (update takes the database's
// transaction lock).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/db.h"
#include "util/hash.h"
#include "util/result.h"

namespace garage::table {

struct merkle_node {
  enum class kind : uint8_t { empty = 0, leaf = 1, inner = 2 };
  kind type = kind::empty;
  std::string item_key;                               // leaf: storage key
  hash256 value_hash{};                               // leaf
  std::vector<std::pair<uint8_t, hash256>> children;  // inner: ascending by byte

  // The zero hash for an empty node.
  hash256 hash() const;
  std::string encode() const;  // "" for empty
  static result<merkle_node> decode(std::string_view bytes);
  bool operator==(const merkle_node&) const = default;
};

class merkle_tree {
 public:
  static result<std::unique_ptr<merkle_tree>> open(db::database& db, std::string_view table_name);

  // Records that the entry at storage_key now has `new_bytes` (nullopt:
  // removed). Inside the transaction that writes the entry.
  void note_change(db::transaction& tx, std::string_view storage_key,
                   std::optional<std::string_view> new_bytes) const;

  // Folds up to `max` recorded changes into the trie; returns how many.
  result<size_t> update(size_t max = 1000);
  // Changes recorded and not yet folded in (an estimate).
  uint64_t pending() const;

  result<merkle_node> node(std::string_view node_key) const;
  static std::string root_key(uint8_t partition) {
    return std::string(1, static_cast<char>(partition));
  }
  result<hash256> root_hash(uint8_t partition) const;

 private:
  merkle_tree(db::database& db, db::tree* trie, db::tree* todo)
      : db_(db), trie_(trie), todo_(todo) {}
  result<std::optional<hash256>> update_rec(db::transaction& tx, const std::string& node_key,
                                            const hash256& path, size_t depth,
                                            const std::string& item_key,
                                            const std::optional<hash256>& value_hash);
  result<merkle_node> load(db::transaction& tx, std::string_view node_key);
  void store(db::transaction& tx, std::string_view node_key, const merkle_node& n);

  db::database& db_;
  db::tree* trie_;
  db::tree* todo_;
};

}  // namespace garage::table
