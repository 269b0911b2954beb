// Block store throughput on 1 MiB blocks (tests/bench). BM_block_hash is the
// reference: BLAKE2b-256 of the block, which every put and get pays once, so
// put and get timings read as "hash plus N". Each put/get runs on compressible
// (text-like) and random data; timings are reported, never asserted.
//   BM_block_hash           blake2b_256 of 1 MiB
//   BM_block_put/<kind>     a new block: zstd level 1 (kept only if smaller),
//                           temp file, rename; no fsync
//   BM_block_put_again/...  a block already stored (read and verified, kept)
//   BM_block_get/<kind>     read, decompress, verify
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <random>
#include <string>

#include "block/block_manager.h"
#include "db/db.h"

namespace {

using namespace garage;
using namespace garage::block;

constexpr size_t block_size = 1 << 20;

std::string make_block(bool compressible, uint64_t seed) {
  std::string s;
  s.reserve(block_size);
  if (compressible) {
    for (uint64_t i = seed; s.size() < block_size; ++i)
      s += "GET /bucket/object-" + std::to_string(i % 1009) + " 200 " + std::to_string(i) + "\n";
  } else {
    std::mt19937_64 rng(seed);
    while (s.size() < block_size) {
      uint64_t v = rng();
      s.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
  }
  s.resize(block_size);
  return s;
}

// A block manager over a fresh temporary directory, removed afterwards.
struct fixture {
  std::string dir;
  std::unique_ptr<db::database> db;
  std::unique_ptr<block_manager> mgr;

  fixture() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "block_bench_XXXXXX").string();
    dir = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
    auto d = db::database::open(dir + "/meta", db::options{});
    if (!d) return;
    db = std::move(*d);
    block_config cfg;
    cfg.data_dir = dir + "/data";
    auto m = block_manager::open(cfg, *db);
    if (m) mgr = std::move(*m);
  }
  ~fixture() {
    mgr.reset();
    db.reset();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
  std::string path_of(const hash256& id) const {
    std::string hex = id.hex();
    return dir + "/data/" + hex.substr(0, 2) + "/" + hex.substr(2, 2) + "/" + hex;
  }
};

const char* kind_name(int64_t compressible) { return compressible ? "compressible" : "random"; }

void BM_block_hash(benchmark::State& state) {
  std::string data = make_block(false, 1);
  for (auto _ : state) benchmark::DoNotOptimize(blake2b_256(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_block_hash);

void BM_block_put(benchmark::State& state) {
  bool compressible = state.range(0) != 0;
  state.SetLabel(kind_name(compressible));
  fixture f;
  if (!f.mgr) return state.SkipWithError("cannot open a block manager in a temp dir");
  std::string data = make_block(compressible, 2);
  uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    // A new block each time: stamp a counter into it and hash it untimed.
    ++n;
    data.replace(0, sizeof n, reinterpret_cast<const char*>(&n), sizeof n);
    hash256 id = blake2b_256(data);
    state.ResumeTiming();
    if (!f.mgr->put(id, data)) return state.SkipWithError("put failed");
    state.PauseTiming();
    std::filesystem::remove(f.path_of(id));  // keep the disk footprint at one block
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_block_put)->Arg(1)->Arg(0)->ArgName("compressible");

void BM_block_put_again(benchmark::State& state) {
  bool compressible = state.range(0) != 0;
  state.SetLabel(kind_name(compressible));
  fixture f;
  if (!f.mgr) return state.SkipWithError("cannot open a block manager in a temp dir");
  std::string data = make_block(compressible, 3);
  hash256 id = blake2b_256(data);
  if (!f.mgr->put(id, data)) return state.SkipWithError("put failed");
  for (auto _ : state)
    if (!f.mgr->put(id, data)) return state.SkipWithError("put failed");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_block_put_again)->Arg(1)->Arg(0)->ArgName("compressible");

void BM_block_get(benchmark::State& state) {
  bool compressible = state.range(0) != 0;
  state.SetLabel(kind_name(compressible));
  fixture f;
  if (!f.mgr) return state.SkipWithError("cannot open a block manager in a temp dir");
  std::string data = make_block(compressible, 4);
  hash256 id = blake2b_256(data);
  if (!f.mgr->put(id, data)) return state.SkipWithError("put failed");
  for (auto _ : state) {
    auto r = f.mgr->get(id);
    if (!r) return state.SkipWithError("get failed");
    benchmark::DoNotOptimize(r->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_block_get)->Arg(1)->Arg(0)->ArgName("compressible");

}  // namespace

// Own main, like the other benches: links with or without benchmark_main.
BENCHMARK_MAIN();
