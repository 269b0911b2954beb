// Cost of the generic table over the raw db (tests/bench): each table
// benchmark has a reference that does the same db work by hand, so the ratio
// shows what merging, encoding and the hook seam add.
//   BM_db_put / BM_table_insert       a new entry per iteration (own transaction)
//   BM_table_insert_unchanged         re-inserting a stored entry (read, merge, no write)
//   BM_db_get / BM_table_get          a random stored entry among 10,000
// Timings are reported, never asserted.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <string>

#include "../unit/table/test_entry.h"
#include "db/db.h"
#include "table/table.h"

namespace {

namespace fs = std::filesystem;
using garage::table::testing::test_entry;

inline constexpr char kBenchTable[] = "bench";
using bench_table = garage::table::table<garage::table::testing::plain_schema<kBenchTable>>;

// A fresh database in a temporary directory, removed afterwards.
struct bench_db {
  fs::path dir;
  std::unique_ptr<garage::db::database> db;
  garage::table::local_replication repl{garage::blake2b_256("bench-node")};
  std::unique_ptr<bench_table> table;

  bench_db() {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("garage_table_bench_" + std::to_string(rd()));
    fs::create_directories(dir);
    db = std::move(*garage::db::database::open(dir.string(), {}));
    table = std::move(*bench_table::open(*db, {}, repl));
  }
  ~bench_db() {
    table.reset();
    db.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

test_entry entry_of(uint64_t i) {
  return test_entry::make("bucket-" + std::to_string(i % 16), "object/" + std::to_string(i), i + 1,
                          std::string(100, 'v'));
}

void BM_db_put(benchmark::State& state) {
  bench_db b;
  auto* tree = *b.db->open_tree("raw");
  uint64_t i = 0;
  for (auto _ : state) {
    auto e = entry_of(i++);
    auto tx = b.db->begin();
    auto old = tx->get(tree, bench_table::storage_key(e.pk, e.sk));
    benchmark::DoNotOptimize(old);
    tx->put(tree, bench_table::storage_key(e.pk, e.sk), e.encode());
    if (!tx->commit()) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_db_put);

void BM_table_insert(benchmark::State& state) {
  bench_db b;
  uint64_t i = 0;
  for (auto _ : state) {
    if (!b.table->insert(entry_of(i++))) state.SkipWithError("insert failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_table_insert);

void BM_table_insert_unchanged(benchmark::State& state) {
  bench_db b;
  constexpr uint64_t n = 1000;
  for (uint64_t i = 0; i < n; ++i) (void)b.table->insert(entry_of(i));
  uint64_t i = 0;
  for (auto _ : state) {
    if (!b.table->insert(entry_of(i++ % n))) state.SkipWithError("insert failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_table_insert_unchanged);

constexpr uint64_t stored = 10000;

void fill(bench_db& b) {
  std::vector<test_entry> es;
  for (uint64_t i = 0; i < stored; ++i) es.push_back(entry_of(i));
  (void)b.table->insert_many(es);
}

void BM_db_get(benchmark::State& state) {
  bench_db b;
  fill(b);
  auto* tree = *b.db->open_tree(kBenchTable);
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    auto e = entry_of(rng() % stored);
    auto v = b.db->get(tree, bench_table::storage_key(e.pk, e.sk));
    if (!v || !*v) state.SkipWithError("missing entry");
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_db_get);

void BM_table_get(benchmark::State& state) {
  bench_db b;
  fill(b);
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    auto e = entry_of(rng() % stored);
    auto v = b.table->get(e.pk, e.sk);
    if (!v || !*v) state.SkipWithError("missing entry");
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_table_get);

}  // namespace
