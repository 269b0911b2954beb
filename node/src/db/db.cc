#include "db/db.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>

namespace garage::db {

class tree {
 public:
  tree(std::string name, rocksdb::ColumnFamilyHandle* cf) : name_(std::move(name)), cf_(cf) {}
  const std::string& name() const { return name_; }
  rocksdb::ColumnFamilyHandle* cf() const { return cf_; }

 private:
  std::string name_;
  rocksdb::ColumnFamilyHandle* cf_;  // owned by database::rep
};

namespace {

error status_error(const rocksdb::Status& s, std::string_view what) {
  errc code = s.IsCorruption() ? errc::corrupted : errc::io_error;
  return error(code, "db: " + std::string(what) + ": " + s.ToString());
}

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view view(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// Memory is bounded for small machines: one block cache shared by every tree
// (index and filter blocks included), a cap on all memtables together, and a
// bounded number of open files.
constexpr size_t block_cache_bytes = 32 << 20;
constexpr size_t write_buffer_bytes = 8 << 20;
constexpr size_t all_write_buffers_bytes = 64 << 20;

rocksdb::ColumnFamilyOptions tree_options(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  o.write_buffer_size = write_buffer_bytes;
  o.max_write_buffer_number = 2;
  o.target_file_size_base = 16 << 20;
  o.max_bytes_for_level_base = 64 << 20;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.cache_index_and_filter_blocks = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.format_version = 5;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  auto supported = rocksdb::GetSupportedCompressions();
  auto has = [&](rocksdb::CompressionType c) {
    return std::find(supported.begin(), supported.end(), c) != supported.end();
  };
  if (has(rocksdb::kLZ4Compression))
    o.compression = rocksdb::kLZ4Compression;
  else if (has(rocksdb::kSnappyCompression))
    o.compression = rocksdb::kSnappyCompression;
  else
    o.compression = rocksdb::kNoCompression;
  if (has(rocksdb::kZSTD)) o.bottommost_compression = rocksdb::kZSTD;
  return o;
}

rocksdb::DBOptions db_options() {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.max_open_files = 256;
  o.max_background_jobs = 2;
  o.db_write_buffer_size = all_write_buffers_bytes;
  o.keep_log_file_num = 3;
  o.max_log_file_size = 4 << 20;
  o.max_manifest_file_size = 64 << 20;
  o.paranoid_checks = true;
  return o;
}

// Reads [r.start, r.end) from an iterator positioned by this function.
result<std::vector<kv>> scan_iterator(rocksdb::Iterator* it, const range& r) {
  std::vector<kv> out;
  if (r.limit == 0) return out;
  if (r.end && *r.end <= r.start) return out;
  if (!r.reverse) {
    it->Seek(slice(r.start));
    for (; it->Valid() && out.size() < r.limit; it->Next()) {
      auto k = view(it->key());
      if (r.end && k >= *r.end) break;
      out.push_back(kv{std::string(k), std::string(view(it->value()))});
    }
  } else {
    if (r.end) {
      it->SeekForPrev(slice(*r.end));
      if (it->Valid() && view(it->key()) >= *r.end) it->Prev();
    } else {
      it->SeekToLast();
    }
    for (; it->Valid() && out.size() < r.limit; it->Prev()) {
      auto k = view(it->key());
      if (k < r.start) break;
      out.push_back(kv{std::string(k), std::string(view(it->value()))});
    }
  }
  if (!it->status().ok()) return status_error(it->status(), "scan");
  return out;
}

}  // namespace

struct database::rep {
  std::unique_ptr<rocksdb::DB> db;
  std::shared_ptr<rocksdb::Cache> cache;
  rocksdb::WriteOptions write_opts;
  rocksdb::ReadOptions read_opts;

  std::mutex trees_mu;
  std::map<std::string, std::unique_ptr<tree>, std::less<>> trees;

  // The transaction lock. A flag under a mutex rather than a held std::mutex,
  // so a transaction may be released on a thread other than the one that
  // began it (a coroutine can resume elsewhere).
  std::mutex tx_mu;
  std::condition_variable tx_cv;
  bool tx_open = false;

  void release_tx() {
    {
      std::lock_guard lk(tx_mu);
      tx_open = false;
    }
    tx_cv.notify_one();
  }

  ~rep() {
    if (!db) return;
    for (auto& [name, t] : trees) db->DestroyColumnFamilyHandle(t->cf()).PermitUncheckedError();
    trees.clear();
    db->Close().PermitUncheckedError();
  }
};

struct transaction::rep {
  database::rep* db = nullptr;
  // overwrite_key: one entry per key in the index, which NewIteratorWithBase requires.
  rocksdb::WriteBatchWithIndex batch{rocksdb::BytewiseComparator(), 0, true};
  bool open = true;              // holds the database's transaction lock
  rocksdb::Status write_status;  // first failed put/del, reported by commit

  void close() {
    if (open) {
      open = false;
      db->release_tx();
    }
  }
};

database::database(std::unique_ptr<rep> r) : rep_(std::move(r)) {}
database::~database() = default;

result<std::unique_ptr<database>> database::open(const std::string& path, const options& opts) {
  auto r = std::make_unique<rep>();
  r->cache = rocksdb::NewLRUCache(block_cache_bytes);
  r->write_opts.sync = opts.fsync;

  rocksdb::DBOptions dbo = db_options();
  rocksdb::ColumnFamilyOptions cfo = tree_options(r->cache);

  // Trees are column families; RocksDB persists their list in the MANIFEST.
  std::vector<std::string> names;
  auto s = rocksdb::DB::ListColumnFamilies(dbo, path, &names);
  if (!s.ok()) names.clear();  // a new database: only "default"
  if (std::find(names.begin(), names.end(), rocksdb::kDefaultColumnFamilyName) == names.end())
    names.push_back(rocksdb::kDefaultColumnFamilyName);

  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& n : names) descs.emplace_back(n, cfo);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::Open(rocksdb::Options(dbo, cfo), path, descs, &handles, &raw);
  if (!s.ok()) return status_error(s, "open " + path);
  r->db.reset(raw);
  for (size_t i = 0; i < handles.size(); ++i)
    r->trees.emplace(names[i], std::make_unique<tree>(names[i], handles[i]));
  return std::unique_ptr<database>(new database(std::move(r)));
}

result<tree*> database::open_tree(std::string_view name) {
  if (name.empty()) return error(errc::invalid_argument, "db: empty tree name");
  std::lock_guard lk(rep_->trees_mu);
  auto it = rep_->trees.find(name);
  if (it != rep_->trees.end()) return it->second.get();
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  auto s = rep_->db->CreateColumnFamily(tree_options(rep_->cache), std::string(name), &cf);
  if (!s.ok()) return status_error(s, "create tree " + std::string(name));
  auto t = std::make_unique<tree>(std::string(name), cf);
  tree* p = t.get();
  rep_->trees.emplace(std::string(name), std::move(t));
  return p;
}

result<std::optional<std::string>> database::get(tree* t, std::string_view key) {
  rocksdb::PinnableSlice v;
  auto s = rep_->db->Get(rep_->read_opts, t->cf(), slice(key), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return status_error(s, "get in " + t->name());
  return std::optional<std::string>(v.ToString());
}

result<std::vector<kv>> database::scan(tree* t, const range& r) {
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(rep_->read_opts, t->cf()));
  return scan_iterator(it.get(), r);
}

uint64_t database::approximate_count(tree* t) {
  uint64_t n = 0;
  if (!rep_->db->GetIntProperty(t->cf(), rocksdb::DB::Properties::kEstimateNumKeys, &n)) return 0;
  return n;
}

std::unique_ptr<transaction> database::begin() {
  {
    std::unique_lock lk(rep_->tx_mu);
    rep_->tx_cv.wait(lk, [&] { return !rep_->tx_open; });
    rep_->tx_open = true;
  }
  auto r = std::make_unique<transaction::rep>();
  r->db = rep_.get();
  return std::unique_ptr<transaction>(new transaction(std::move(r)));
}

result<void> database::flush() {
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  {
    std::lock_guard lk(rep_->trees_mu);
    for (auto& [name, t] : rep_->trees) cfs.push_back(t->cf());
  }
  auto s = rep_->db->Flush(rocksdb::FlushOptions(), cfs);
  if (!s.ok()) return status_error(s, "flush");
  s = rep_->db->FlushWAL(true);
  if (!s.ok()) return status_error(s, "sync WAL");
  return ok();
}

transaction::transaction(std::unique_ptr<rep> r) : rep_(std::move(r)) {}
transaction::~transaction() { rep_->close(); }

result<std::optional<std::string>> transaction::get(tree* t, std::string_view key) {
  if (!rep_->open) return error(errc::internal, "db: transaction used after commit");
  rocksdb::PinnableSlice v;
  auto s = rep_->batch.GetFromBatchAndDB(rep_->db->db.get(), rep_->db->read_opts, t->cf(),
                                         slice(key), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return status_error(s, "get in " + t->name());
  return std::optional<std::string>(v.ToString());
}

result<std::vector<kv>> transaction::scan(tree* t, const range& r) {
  if (!rep_->open) return error(errc::internal, "db: transaction used after commit");
  auto* base = rep_->db->db->NewIterator(rep_->db->read_opts, t->cf());
  std::unique_ptr<rocksdb::Iterator> it(rep_->batch.NewIteratorWithBase(t->cf(), base));
  return scan_iterator(it.get(), r);
}

void transaction::put(tree* t, std::string_view key, std::string_view value) {
  if (!rep_->open) return;
  auto s = rep_->batch.Put(t->cf(), slice(key), slice(value));
  if (!s.ok() && rep_->write_status.ok()) rep_->write_status = s;
}

void transaction::del(tree* t, std::string_view key) {
  if (!rep_->open) return;
  auto s = rep_->batch.Delete(t->cf(), slice(key));
  if (!s.ok() && rep_->write_status.ok()) rep_->write_status = s;
}

result<void> transaction::commit() {
  if (!rep_->open) return error(errc::internal, "db: transaction committed twice");
  if (!rep_->write_status.ok()) {
    rep_->close();
    return status_error(rep_->write_status, "write batch");
  }
  auto s = rep_->db->db->Write(rep_->db->write_opts, rep_->batch.GetWriteBatch());
  rep_->close();
  if (!s.ok()) return status_error(s, "commit");
  return ok();
}

}  // namespace garage::db
