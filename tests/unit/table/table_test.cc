// The generic table: merge on insert, the update hook and its transaction,
// range reads, paging, tombstone collection, persistence, and the replication
// seam.
#include "table/table.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "test_entry.h"

namespace garage::table {
namespace {

namespace fs = std::filesystem;
using testing::test_entry;

inline constexpr char kIndexName[] = "index";
using index_table = table<testing::plain_schema<kIndexName>>;

// Records every change; optionally mirrors entries into an index table (in
// the insert's transaction) and then fails on demand.
struct hook_log {
  struct change {
    std::optional<test_entry> old_entry;
    test_entry new_entry;
  };
  std::vector<change> changes;
  bool fail = false;
};

struct main_schema {
  using entry = test_entry;
  static constexpr std::string_view name = "main";
  hook_log* log = nullptr;
  index_table* index = nullptr;

  result<void> updated(db::transaction& tx, const test_entry* old_entry,
                       const test_entry& new_entry) {
    log->changes.push_back({old_entry ? std::optional(*old_entry) : std::nullopt, new_entry});
    if (index) {
      GARAGE_TRY(index->insert(
          tx, test_entry::make("by_value",
                               new_entry.value.value + "/" + new_entry.pk + "/" + new_entry.sk,
                               new_entry.value.timestamp, new_entry.pk)));
    }
    if (log->fail) return error(errc::conflict, "hook refused");
    return ok();
  }
};
using main_table = table<main_schema>;

static_assert(table_entry<test_entry>);
static_assert(table_schema<main_schema>);

class table_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() /
           ("garage_table_test_" + std::to_string(rd()) + "_" + std::to_string(rd()));
    fs::create_directories(dir_);
    open();
  }
  void TearDown() override {
    close();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void open() {
    auto d = db::database::open(dir_.string(), db::options{});
    ASSERT_TRUE(d) << d.error().to_string();
    db_ = std::move(*d);
    auto i = index_table::open(*db_, {}, repl_);
    ASSERT_TRUE(i) << i.error().to_string();
    index_ = std::move(*i);
    auto m = main_table::open(*db_, main_schema{&log_, index_.get()}, repl_);
    ASSERT_TRUE(m) << m.error().to_string();
    main_ = std::move(*m);
  }
  void close() {
    main_.reset();
    index_.reset();
    db_.reset();
  }

  std::optional<test_entry> get(std::string_view pk, std::string_view sk) {
    auto r = main_->get(pk, sk);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : std::nullopt;
  }
  void insert(const test_entry& e) {
    auto r = main_->insert(e);
    ASSERT_TRUE(r) << r.error().to_string();
  }
  std::vector<std::string> range_sks(std::string_view pk, const main_table::range_query& q) {
    auto r = main_->get_range(pk, q);
    EXPECT_TRUE(r) << r.error().to_string();
    std::vector<std::string> out;
    if (r)
      for (auto& e : *r) out.push_back(e.sk);
    return out;
  }

  fs::path dir_;
  local_replication repl_{blake2b_256("node")};
  hook_log log_;
  std::unique_ptr<db::database> db_;
  std::unique_ptr<index_table> index_;
  std::unique_ptr<main_table> main_;
};

using strings = std::vector<std::string>;

TEST_F(table_test, storage_key_is_hashed_partition_then_sort_key) {
  auto k = main_table::storage_key("bucket", "obj/1");
  ASSERT_EQ(k.size(), 32u + 5u);
  EXPECT_EQ(k.substr(0, 32), blake2b_256("bucket").view());
  EXPECT_EQ(k.substr(32), "obj/1");
  EXPECT_EQ(main_->name(), "main");
  EXPECT_EQ(main_->repl().storage_nodes(blake2b_256("x")), std::vector<node_id>{repl_.self()});
}

TEST_F(table_test, insert_then_get) {
  EXPECT_EQ(get("p", "s"), std::nullopt);
  auto e = test_entry::make("p", "s", 10, "hello");
  insert(e);
  EXPECT_EQ(get("p", "s"), e);
  EXPECT_EQ(get("p", "t"), std::nullopt);
  EXPECT_EQ(get("q", "s"), std::nullopt);
}

TEST_F(table_test, insert_merges_with_stored_entry) {
  insert(test_entry::make("p", "s", 10, "a"));
  insert(test_entry::make("p", "s", 5, "older"));
  EXPECT_EQ(get("p", "s")->value.value, "a");
  insert(test_entry::make("p", "s", 20, "newer"));
  EXPECT_EQ(get("p", "s")->value.value, "newer");
  insert(test_entry::make("p", "s", 1, "x", /*del=*/true));
  auto got = get("p", "s");
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->is_tombstone());
  EXPECT_EQ(got->value.value, "newer");  // the merge kept the newer value
}

TEST_F(table_test, unchanged_insert_writes_nothing_and_skips_the_hook) {
  auto e = test_entry::make("p", "s", 10, "a");
  insert(e);
  ASSERT_EQ(log_.changes.size(), 1u);
  EXPECT_FALSE(log_.changes[0].old_entry);
  EXPECT_EQ(log_.changes[0].new_entry, e);
  insert(e);                                    // same entry again
  insert(test_entry::make("p", "s", 3, "zz"));  // older: merges to the same bytes
  EXPECT_EQ(log_.changes.size(), 1u);
  insert(test_entry::make("p", "s", 11, "b"));
  ASSERT_EQ(log_.changes.size(), 2u);
  EXPECT_EQ(log_.changes[1].old_entry, e);
  EXPECT_EQ(log_.changes[1].new_entry.value.value, "b");
}

TEST_F(table_test, hook_writes_into_another_table_in_the_same_transaction) {
  insert(test_entry::make("p", "s", 10, "v1"));
  auto idx = index_->get("by_value", "v1/p/s");
  ASSERT_TRUE(idx);
  ASSERT_TRUE(*idx);
  EXPECT_EQ((*idx)->value.value, "p");

  // Inside a caller's transaction: nothing is visible until commit.
  auto tx = db_->begin();
  ASSERT_TRUE(main_->insert(*tx, test_entry::make("p", "t", 10, "v2")));
  auto in_tx = main_->get(*tx, "p", "t");
  ASSERT_TRUE(in_tx && *in_tx);
  auto idx_in_tx = index_->get(*tx, "by_value", "v2/p/t");
  ASSERT_TRUE(idx_in_tx && *idx_in_tx);
  EXPECT_EQ(get("p", "t"), std::nullopt);
  EXPECT_EQ(*index_->get("by_value", "v2/p/t"), std::nullopt);
  ASSERT_TRUE(tx->commit());
  EXPECT_TRUE(get("p", "t"));
  EXPECT_TRUE(*index_->get("by_value", "v2/p/t"));
}

TEST_F(table_test, failing_hook_aborts_the_whole_insert) {
  log_.fail = true;
  auto r = main_->insert(test_entry::make("p", "s", 10, "v"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::conflict);
  EXPECT_EQ(get("p", "s"), std::nullopt);
  EXPECT_EQ(*index_->get("by_value", "v/p/s"), std::nullopt);

  // insert_many is all or nothing too.
  log_.fail = false;
  insert(test_entry::make("p", "a", 1, "kept"));
  std::vector<test_entry> batch = {test_entry::make("p", "b", 1, "x"),
                                   test_entry::make("p", "a", 2, "changed")};
  log_.fail = true;
  ASSERT_FALSE(main_->insert_many(batch));
  log_.fail = false;
  EXPECT_EQ(get("p", "b"), std::nullopt);
  EXPECT_EQ(get("p", "a")->value.value, "kept");
  ASSERT_TRUE(main_->insert_many(batch));
  EXPECT_EQ(get("p", "b")->value.value, "x");
  EXPECT_EQ(get("p", "a")->value.value, "changed");
}

class range_test : public table_test {
 protected:
  void SetUp() override {
    table_test::SetUp();
    std::vector<test_entry> es;
    for (auto sk : {"a", "b", "c", "d", "e"}) es.push_back(test_entry::make("p", sk, 1, sk));
    es.push_back(test_entry::make("p", "c2", 1, "dead", true));  // tombstone between c and d
    for (auto sk : {"a", "z"}) es.push_back(test_entry::make("other", sk, 1, sk));
    es.push_back(test_entry::make("", "empty-pk", 1, "x"));
    ASSERT_TRUE(main_->insert_many(es));
  }
};

TEST_F(range_test, forward_from_start) {
  EXPECT_EQ(range_sks("p", {}), (strings{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(range_sks("p", {.start_sk = "c"}), (strings{"c", "d", "e"}));
  EXPECT_EQ(range_sks("p", {.start_sk = "bb"}), (strings{"c", "d", "e"}));
  EXPECT_EQ(range_sks("p", {.start_sk = "f"}), strings{});
  EXPECT_EQ(range_sks("other", {}), (strings{"a", "z"}));
  EXPECT_EQ(range_sks("nobody", {}), strings{});
  EXPECT_EQ(range_sks("", {}), strings{"empty-pk"});
}

TEST_F(range_test, reverse) {
  EXPECT_EQ(range_sks("p", {.reverse = true}), (strings{"e", "d", "c", "b", "a"}));
  EXPECT_EQ(range_sks("p", {.start_sk = "c", .reverse = true}), (strings{"c", "b", "a"}));
  EXPECT_EQ(range_sks("p", {.start_sk = "cc", .reverse = true}), (strings{"c", "b", "a"}));
  EXPECT_EQ(range_sks("p", {.start_sk = "cc", .reverse = true, .include_tombstones = true}),
            (strings{"c2", "c", "b", "a"}));
  EXPECT_EQ(range_sks("p", {.start_sk = "0", .reverse = true}), strings{});
}

TEST_F(range_test, limit) {
  EXPECT_EQ(range_sks("p", {.limit = 2}), (strings{"a", "b"}));
  EXPECT_EQ(range_sks("p", {.reverse = true, .limit = 2}), (strings{"e", "d"}));
  EXPECT_EQ(range_sks("p", {.limit = 0}), strings{});
}

TEST_F(range_test, filter) {
  auto vowels = [](const test_entry& e) { return e.sk == "a" || e.sk == "e"; };
  EXPECT_EQ(range_sks("p", {.filter = vowels}), (strings{"a", "e"}));
  EXPECT_EQ(range_sks("p", {.reverse = true, .limit = 1, .filter = vowels}), strings{"e"});
}

TEST_F(range_test, tombstones) {
  EXPECT_EQ(range_sks("p", {.start_sk = "c", .include_tombstones = true}),
            (strings{"c", "c2", "d", "e"}));
  EXPECT_EQ(range_sks("p", {.start_sk = "c"}), (strings{"c", "d", "e"}));
  auto got = get("p", "c2");  // get returns tombstones
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->is_tombstone());
}

// Filtered and tombstoned entries do not count towards the limit, across the
// internal read batches.
TEST_F(table_test, range_reads_past_filtered_entries) {
  std::vector<test_entry> es;
  for (int i = 0; i < 600; ++i) {
    char sk[8];
    std::snprintf(sk, sizeof sk, "%04d", i);
    es.push_back(test_entry::make("big", sk, 1, std::to_string(i), i % 5 == 0));
  }
  ASSERT_TRUE(main_->insert_many(es));
  auto every_7th = [](const test_entry& e) { return std::stoi(e.sk) % 7 == 0; };
  for (bool reverse : {false, true}) {
    auto got = range_sks("big", {.reverse = reverse, .limit = 40, .filter = every_7th});
    strings want;
    for (int k = 0; k < 600 && want.size() < 40; ++k) {
      int i = reverse ? 599 - k : k;
      if (i % 7 == 0 && i % 5 != 0) want.push_back(es[i].sk);
    }
    EXPECT_EQ(got, want) << "reverse=" << reverse;
  }
  EXPECT_EQ(range_sks("big", {.limit = 10000}).size(), 480u);
}

TEST_F(table_test, scan_all_pages_through_everything) {
  std::set<std::pair<std::string, std::string>> want;
  std::vector<test_entry> es;
  for (int i = 0; i < 40; ++i) {
    auto e = test_entry::make("pk" + std::to_string(i % 6), "sk" + std::to_string(i), 1, "v",
                              i % 9 == 0);
    want.insert({e.pk, e.sk});
    es.push_back(e);
  }
  ASSERT_TRUE(main_->insert_many(es));
  std::set<std::pair<std::string, std::string>> seen;
  std::string after, prev_key;
  int pages = 0;
  for (;;) {
    std::string last;
    auto page = main_->scan_all(after, 7, &last);
    ASSERT_TRUE(page) << page.error().to_string();
    if (page->empty()) break;
    ++pages;
    ASSERT_LE(page->size(), 7u);
    for (auto& e : *page) {
      auto key = main_table::storage_key(e.pk, e.sk);
      EXPECT_GT(key, prev_key);  // storage order, no repeats
      prev_key = key;
      seen.insert({e.pk, e.sk});
    }
    EXPECT_EQ(last, main_table::storage_key(page->back().pk, page->back().sk));
    after = last;
  }
  EXPECT_EQ(pages, 6);  // 40 entries by 7
  EXPECT_EQ(seen, want);
}

TEST_F(table_test, collect_tombstones_after_delay) {
  insert(test_entry::make("p", "live", 1, "v"));
  insert(test_entry::make("p", "dead", 1, "v", true));
  const uint64_t hour = 3'600'000;
  auto n = main_->collect_tombstones(now_msec(), hour);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  EXPECT_TRUE(get("p", "dead"));
  n = main_->collect_tombstones(now_msec() + 2 * hour, hour);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(get("p", "dead"), std::nullopt);
  EXPECT_TRUE(get("p", "live"));
  n = main_->collect_tombstones(now_msec() + 2 * hour, hour);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  // An entry deleted later is collected later.
  insert(test_entry::make("p", "live", 2, "gone", true));
  n = main_->collect_tombstones(now_msec() + 2 * hour, hour);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(get("p", "live"), std::nullopt);
}

TEST_F(table_test, collect_tombstones_spares_a_tombstone_changed_since) {
  insert(test_entry::make("p", "t", 1, "first", true));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const uint64_t between = now_msec();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  insert(test_entry::make("p", "t", 2, "second", true));  // a changed tombstone
  // Due: only the record of the first version, which no longer matches.
  auto n = main_->collect_tombstones(between, 0);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  ASSERT_TRUE(get("p", "t"));
  EXPECT_EQ(get("p", "t")->value.value, "second");
  n = main_->collect_tombstones(now_msec() + 1, 0);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(get("p", "t"), std::nullopt);
}

TEST_F(table_test, collect_tombstones_in_many_batches) {
  std::vector<test_entry> es;
  for (int i = 0; i < 2500; ++i)
    es.push_back(test_entry::make("p" + std::to_string(i % 13), std::to_string(i), 1, "", true));
  ASSERT_TRUE(main_->insert_many(es));
  auto n = main_->collect_tombstones(now_msec() + 1, 0);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2500u);
  std::string last;
  auto rest = main_->scan_all("", 10, &last);
  ASSERT_TRUE(rest);
  EXPECT_TRUE(rest->empty());
}

TEST_F(table_test, entries_persist_across_reopen) {
  insert(test_entry::make("p", "s", 10, "kept"));
  insert(test_entry::make("p", "t", 10, "tomb", true));
  close();
  open();
  EXPECT_EQ(get("p", "s")->value.value, "kept");
  EXPECT_TRUE(get("p", "t")->is_tombstone());
  EXPECT_TRUE(*index_->get("by_value", "kept/p/s"));
  // The tombstone record survived too.
  auto n = main_->collect_tombstones(now_msec() + 1, 0);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
}

TEST_F(table_test, undecodable_bytes_are_corruption_naming_the_table) {
  auto t = db_->open_tree("main");
  ASSERT_TRUE(t);
  auto tx = db_->begin();
  tx->put(*t, main_table::storage_key("p", "bad"), "\x07garbage");
  ASSERT_TRUE(tx->commit());
  auto r = main_->get("p", "bad");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::corrupted);
  EXPECT_NE(r.error().message.find("main"), std::string::npos) << r.error().message;
  auto range = main_->get_range("p", {});
  ASSERT_FALSE(range);
  EXPECT_EQ(range.error().code, errc::corrupted);
  auto ins = main_->insert(test_entry::make("p", "bad", 1, "v"));
  ASSERT_FALSE(ins);
  EXPECT_EQ(ins.error().code, errc::corrupted);
}

inline constexpr char kReplicatedName[] = "replicated";

// Three replicas with a quorum of two: not supported yet, refused cleanly.
class three_nodes final : public replication {
 public:
  std::vector<node_id> storage_nodes(const hash256&) const override {
    return {blake2b_256("a"), blake2b_256("b"), blake2b_256("c")};
  }
  size_t write_quorum() const override { return 2; }
  size_t read_quorum() const override { return 2; }
};

TEST_F(table_test, replicated_tables_are_refused_for_now) {
  three_nodes repl;
  auto t = table<testing::plain_schema<kReplicatedName>>::open(*db_, {}, repl);
  ASSERT_TRUE(t);
  auto w = (*t)->insert(test_entry::make("p", "s", 1, "v"));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, errc::unavailable);
  auto r = (*t)->get("p", "s");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable);
  EXPECT_FALSE((*t)->get_range("p", {}));
}

}  // namespace
}  // namespace garage::table
