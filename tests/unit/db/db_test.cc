// The RocksDB seam: persistence, independent trees, range reads, transactions
// with read-your-writes, serialised transactions.
#include "db/db.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace garage::db {
namespace {

namespace fs = std::filesystem;

class db_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() /
           ("garage_db_test_" + std::to_string(rd()) + "_" + std::to_string(rd()));
    fs::create_directories(dir_);
    reopen();
  }
  void TearDown() override {
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void reopen() {
    db_.reset();
    auto r = database::open(dir_.string(), options{});
    ASSERT_TRUE(r) << r.error().to_string();
    db_ = std::move(*r);
  }
  tree* open_tree(std::string_view name) {
    auto t = db_->open_tree(name);
    EXPECT_TRUE(t) << t.error().to_string();
    return t ? *t : nullptr;
  }
  void put(tree* t, std::string_view k, std::string_view v) {
    auto tx = db_->begin();
    tx->put(t, k, v);
    auto r = tx->commit();
    ASSERT_TRUE(r) << r.error().to_string();
  }
  std::optional<std::string> get(tree* t, std::string_view k) {
    auto r = db_->get(t, k);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : std::nullopt;
  }
  static std::vector<std::string> keys(const result<std::vector<kv>>& r) {
    EXPECT_TRUE(r) << r.error().to_string();
    std::vector<std::string> out;
    if (r)
      for (auto& e : *r) out.push_back(e.key);
    return out;
  }

  fs::path dir_;
  std::unique_ptr<database> db_;
};

TEST_F(db_test, get_of_missing_key_is_empty) {
  auto* t = open_tree("t");
  EXPECT_EQ(get(t, "nope"), std::nullopt);
}

TEST_F(db_test, open_tree_returns_same_handle) {
  auto* a = open_tree("a");
  EXPECT_EQ(a, open_tree("a"));
  EXPECT_NE(a, open_tree("b"));
  EXPECT_FALSE(db_->open_tree(""));
}

TEST_F(db_test, reopen_persists_trees_and_values) {
  auto* a = open_tree("alpha");
  auto* b = open_tree("beta");
  put(a, "k1", "v1");
  put(b, "k2", std::string("v\0two", 5));
  reopen();
  a = open_tree("alpha");
  b = open_tree("beta");
  EXPECT_EQ(get(a, "k1"), "v1");
  EXPECT_EQ(get(b, "k2"), std::string("v\0two", 5));
  EXPECT_EQ(get(a, "k2"), std::nullopt);
}

TEST_F(db_test, reopen_after_flush_persists) {
  auto* a = open_tree("alpha");
  for (int i = 0; i < 100; ++i) put(a, "k" + std::to_string(i), std::to_string(i * i));
  ASSERT_TRUE(db_->flush());
  reopen();
  a = open_tree("alpha");
  for (int i = 0; i < 100; ++i) EXPECT_EQ(get(a, "k" + std::to_string(i)), std::to_string(i * i));
}

TEST_F(db_test, trees_are_independent) {
  auto* a = open_tree("a");
  auto* b = open_tree("b");
  put(a, "k", "in a");
  EXPECT_EQ(get(b, "k"), std::nullopt);
  put(b, "k", "in b");
  EXPECT_EQ(get(a, "k"), "in a");
  EXPECT_EQ(get(b, "k"), "in b");
  auto tx = db_->begin();
  tx->del(a, "k");
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ(get(a, "k"), std::nullopt);
  EXPECT_EQ(get(b, "k"), "in b");
  EXPECT_EQ(keys(db_->scan(b, range{})), std::vector<std::string>{"k"});
}

class scan_test : public db_test {
 protected:
  void SetUp() override {
    db_test::SetUp();
    t_ = open_tree("s");
    auto tx = db_->begin();
    for (auto k : {"a", "b", "ba", "c", "d"}) tx->put(t_, k, std::string("v") + k);
    ASSERT_TRUE(tx->commit());
  }
  tree* t_ = nullptr;
};

using strings = std::vector<std::string>;

TEST_F(scan_test, forward_bounds) {
  EXPECT_EQ(keys(db_->scan(t_, range{})), (strings{"a", "b", "ba", "c", "d"}));
  EXPECT_EQ(keys(db_->scan(t_, range{"b", "c"})), (strings{"b", "ba"}));
  EXPECT_EQ(keys(db_->scan(t_, range{"bb", std::nullopt})), (strings{"c", "d"}));
  EXPECT_EQ(keys(db_->scan(t_, range{"c", "c"})), strings{});
  EXPECT_EQ(keys(db_->scan(t_, range{"d", "a"})), strings{});
  auto r = db_->scan(t_, range{"c", "d"});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].value, "vc");
}

TEST_F(scan_test, reverse_bounds) {
  EXPECT_EQ(keys(db_->scan(t_, range{"", std::nullopt, true})),
            (strings{"d", "c", "ba", "b", "a"}));
  // end is exclusive in reverse too
  EXPECT_EQ(keys(db_->scan(t_, range{"b", "c", true})), (strings{"ba", "b"}));
  EXPECT_EQ(keys(db_->scan(t_, range{"", "bb", true})), (strings{"ba", "b", "a"}));
  EXPECT_EQ(keys(db_->scan(t_, range{"e", std::nullopt, true})), strings{});
}

TEST_F(scan_test, limit) {
  EXPECT_EQ(keys(db_->scan(t_, range{"", std::nullopt, false, 2})), (strings{"a", "b"}));
  EXPECT_EQ(keys(db_->scan(t_, range{"", std::nullopt, true, 2})), (strings{"d", "c"}));
  EXPECT_EQ(keys(db_->scan(t_, range{"", std::nullopt, false, 0})), strings{});
}

TEST_F(scan_test, transaction_scan_merges_own_writes) {
  auto tx = db_->begin();
  tx->put(t_, "bb", "new");
  tx->del(t_, "c");
  tx->put(t_, "a", "changed");
  EXPECT_EQ(keys(tx->scan(t_, range{})), (strings{"a", "b", "ba", "bb", "d"}));
  EXPECT_EQ(keys(tx->scan(t_, range{"", "d", true})), (strings{"bb", "ba", "b", "a"}));
  EXPECT_EQ(keys(tx->scan(t_, range{"b", std::nullopt, false, 3})), (strings{"b", "ba", "bb"}));
  auto r = tx->scan(t_, range{"a", "b"});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].value, "changed");
  // Outside the transaction nothing changed yet.
  EXPECT_EQ(keys(db_->scan(t_, range{})), (strings{"a", "b", "ba", "c", "d"}));
}

TEST_F(db_test, transaction_reads_its_own_writes) {
  auto* t = open_tree("t");
  put(t, "x", "old");
  auto tx = db_->begin();
  auto r = tx->get(t, "x");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "old");
  tx->put(t, "x", "new");
  tx->put(t, "y", "fresh");
  EXPECT_EQ(*tx->get(t, "x"), "new");
  EXPECT_EQ(*tx->get(t, "y"), "fresh");
  tx->del(t, "x");
  EXPECT_EQ(*tx->get(t, "x"), std::nullopt);
  // Committed state is untouched until commit.
  EXPECT_EQ(get(t, "x"), "old");
  EXPECT_EQ(get(t, "y"), std::nullopt);
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ(get(t, "x"), std::nullopt);
  EXPECT_EQ(get(t, "y"), "fresh");
}

TEST_F(db_test, dropped_transaction_discards_writes) {
  auto* t = open_tree("t");
  put(t, "keep", "1");
  {
    auto tx = db_->begin();
    tx->put(t, "gone", "1");
    tx->del(t, "keep");
  }
  EXPECT_EQ(get(t, "gone"), std::nullopt);
  EXPECT_EQ(get(t, "keep"), "1");
  // The lock was released: a new transaction can start.
  put(t, "after", "1");
  EXPECT_EQ(get(t, "after"), "1");
}

TEST_F(db_test, commit_twice_is_an_error) {
  auto* t = open_tree("t");
  auto tx = db_->begin();
  tx->put(t, "k", "v");
  ASSERT_TRUE(tx->commit());
  auto r = tx->commit();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::internal);
}

TEST_F(db_test, transaction_spans_trees_atomically) {
  auto* a = open_tree("a");
  auto* b = open_tree("b");
  auto tx = db_->begin();
  tx->put(a, "k", "1");
  tx->put(b, "k", "2");
  EXPECT_EQ(get(a, "k"), std::nullopt);
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ(get(a, "k"), "1");
  EXPECT_EQ(get(b, "k"), "2");
}

// Read-modify-write of one counter from several threads: without serialised
// transactions increments would be lost.
TEST_F(db_test, concurrent_transactions_serialise) {
  auto* t = open_tree("counter");
  put(t, "n", "0");
  constexpr int threads = 4, per_thread = 200;
  std::atomic<int> inside{0}, max_inside{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i) {
    ts.emplace_back([&] {
      for (int j = 0; j < per_thread; ++j) {
        auto tx = db_->begin();
        int now = ++inside;
        int prev = max_inside.load();
        while (now > prev && !max_inside.compare_exchange_weak(prev, now)) {
        }
        auto v = tx->get(t, "n");
        ASSERT_TRUE(v && *v);
        int n = std::stoi(**v);
        std::this_thread::yield();
        tx->put(t, "n", std::to_string(n + 1));
        --inside;
        ASSERT_TRUE(tx->commit());
      }
    });
  }
  for (auto& th : ts) th.join();
  EXPECT_EQ(get(t, "n"), std::to_string(threads * per_thread));
  EXPECT_EQ(max_inside.load(), 1);
}

TEST_F(db_test, begin_blocks_while_a_transaction_is_open) {
  auto* t = open_tree("t");
  auto tx = db_->begin();
  tx->put(t, "k", "first");
  std::atomic<bool> entered{false};
  std::thread other([&] {
    auto tx2 = db_->begin();
    entered = true;
    auto v = tx2->get(t, "k");
    // The second transaction starts only after the first committed.
    EXPECT_TRUE(v && *v && **v == "first");
    tx2->put(t, "k", "second");
    EXPECT_TRUE(tx2->commit());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(entered.load());
  ASSERT_TRUE(tx->commit());
  other.join();
  EXPECT_TRUE(entered.load());
  EXPECT_EQ(get(t, "k"), "second");
}

TEST_F(db_test, approximate_count) {
  auto* t = open_tree("t");
  auto* other = open_tree("other");
  EXPECT_EQ(db_->approximate_count(t), 0u);
  constexpr int n = 1000;
  auto tx = db_->begin();
  for (int i = 0; i < n; ++i) tx->put(t, "key" + std::to_string(i), "v");
  ASSERT_TRUE(tx->commit());
  auto c = db_->approximate_count(t);
  EXPECT_GE(c, n / 2);
  EXPECT_LE(c, 2 * n);
  EXPECT_EQ(db_->approximate_count(other), 0u);
  ASSERT_TRUE(db_->flush());
  c = db_->approximate_count(t);
  EXPECT_GE(c, n / 2);
  EXPECT_LE(c, 2 * n);
}

TEST_F(db_test, fsync_option_commits) {
  db_.reset();
  auto r = database::open(dir_.string(), options{.fsync = true});
  ASSERT_TRUE(r);
  db_ = std::move(*r);
  auto* t = open_tree("t");
  put(t, "k", "v");
  EXPECT_EQ(get(t, "k"), "v");
}

TEST_F(db_test, open_fails_on_a_file_path) {
  auto file = dir_ / "not_a_dir";
  { std::ofstream(file.string()) << "x"; }
  auto r = database::open((file / "sub").string(), options{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::io_error);
}

}  // namespace
}  // namespace garage::db
