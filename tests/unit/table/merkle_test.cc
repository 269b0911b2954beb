// The Merkle trie: its root depends only on the set of (key, value) pairs,
// whatever the order of changes; removing everything empties it.
#include "table/merkle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

namespace garage::table {
namespace {

namespace fs = std::filesystem;

class merkle_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("garage_merkle_test_" + std::to_string(rd()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  struct store {
    std::unique_ptr<db::database> db;
    std::unique_ptr<merkle_tree> tree;
  };
  store open(const std::string& name) {
    store s;
    auto d = db::database::open((dir_ / name).string(), db::options{});
    EXPECT_TRUE(d);
    s.db = std::move(*d);
    auto t = merkle_tree::open(*s.db, "t");
    EXPECT_TRUE(t);
    s.tree = std::move(*t);
    return s;
  }
  static void change(store& s, const std::string& key, std::optional<std::string> value) {
    auto tx = s.db->begin();
    s.tree->note_change(*tx, key, value ? std::optional<std::string_view>(*value) : std::nullopt);
    ASSERT_TRUE(tx->commit());
  }
  static void fold(store& s) {
    for (;;) {
      auto n = s.tree->update(7);  // small batches: exercise several rounds
      ASSERT_TRUE(n) << n.error().to_string();
      if (*n == 0) return;
    }
  }
  static hash256 root(store& s, uint8_t p) {
    auto r = s.tree->root_hash(p);
    EXPECT_TRUE(r);
    return r ? *r : hash256{};
  }
  fs::path dir_;
};

std::string key_in(uint8_t partition, int i) {
  return std::string(1, static_cast<char>(partition)) + "key-" + std::to_string(i);
}

TEST_F(merkle_test, root_depends_on_contents_not_on_order_and_empties_back) {
  auto a = open("a");
  auto b = open("b");
  std::vector<int> order(300);
  for (int i = 0; i < 300; ++i) order[i] = i;
  for (int i : order) change(a, key_in(7, i), "v" + std::to_string(i));
  fold(a);
  std::mt19937 rng(42);
  std::shuffle(order.begin(), order.end(), rng);
  // b gets the same final contents through a different history: stale values
  // first, some keys removed and re-added.
  for (int i : order) change(b, key_in(7, i), "old");
  fold(b);
  for (int i : order)
    if (i % 3 == 0) change(b, key_in(7, i), std::nullopt);
  fold(b);
  EXPECT_NE(root(a, 7), root(b, 7));
  for (int i : order) change(b, key_in(7, i), "v" + std::to_string(i));
  fold(b);
  EXPECT_EQ(root(a, 7), root(b, 7));
  EXPECT_NE(root(a, 7), hash256{});
  EXPECT_EQ(root(a, 8), hash256{}) << "partitions are separate trees";
  // One differing value changes the root.
  change(b, key_in(7, 5), "different");
  fold(b);
  EXPECT_NE(root(a, 7), root(b, 7));
  // Removing everything leaves no node.
  for (int i = 0; i < 300; ++i) change(a, key_in(7, i), std::nullopt);
  fold(a);
  EXPECT_EQ(root(a, 7), hash256{});
  auto n = a.tree->node(merkle_tree::root_key(7));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->type, merkle_node::kind::empty);
  EXPECT_EQ(a.tree->pending(), 0u);
}

TEST_F(merkle_test, removing_an_absent_item_changes_nothing) {
  auto a = open("a");
  change(a, key_in(1, 1), "x");
  fold(a);
  auto before = root(a, 1);
  change(a, key_in(1, 2), std::nullopt);
  fold(a);
  EXPECT_EQ(root(a, 1), before);
}

TEST_F(merkle_test, nodes_round_trip_and_garbage_is_refused) {
  merkle_node leaf{merkle_node::kind::leaf, "k", blake2b_256("v"), {}};
  auto l = merkle_node::decode(leaf.encode());
  ASSERT_TRUE(l);
  EXPECT_EQ(*l, leaf);
  merkle_node inner{
      merkle_node::kind::inner, {}, {}, {{1, blake2b_256("a")}, {9, blake2b_256("b")}}};
  auto i = merkle_node::decode(inner.encode());
  ASSERT_TRUE(i);
  EXPECT_EQ(*i, inner);
  EXPECT_FALSE(merkle_node::decode("\x01\x07"));
  EXPECT_FALSE(merkle_node::decode(std::string("\x01\x02\x05", 3)));
  EXPECT_TRUE(merkle_node::decode("").has_value()) << "empty bytes: the empty node";
}

}  // namespace
}  // namespace garage::table
