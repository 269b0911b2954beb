// db: the metadata store. A thin seam over RocksDB: named trees (column
// families), atomic transactions with read-your-writes, and range reads.
// Nothing outside db/*.cc includes a RocksDB header.
//
// Thread-safety: `database` and its trees may be used from any thread. Reads
// outside a transaction see the last committed state. Transactions are
// serialised: at most one is open at a time per database (begin() blocks until
// the previous one is committed or dropped), which is what lets a table's
// on_updated hook read and write other trees in the same atomic batch.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace garage::db {

struct options {
  // fsync the write-ahead log on every commit (config: metadata_fsync).
  bool fsync = false;
};

// Opaque handle to a named tree. Owned by the database; valid until it closes.
class tree;

struct kv {
  std::string key;
  std::string value;
};

// Bounds of a range read. `end` is exclusive; nullopt means unbounded.
struct range {
  std::string start;
  std::optional<std::string> end;
  bool reverse = false;  // from the end of the range backwards
  size_t limit = SIZE_MAX;
};

class transaction;

class database {
 public:
  // Opens (creating if absent) the database in directory `path`.
  static result<std::unique_ptr<database>> open(const std::string& path, const options& opts);
  ~database();
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  // Opens or creates the tree `name`. Returns the same handle for the same name.
  result<tree*> open_tree(std::string_view name);

  result<std::optional<std::string>> get(tree* t, std::string_view key);
  // Entries whose key is in [r.start, r.end), in key order (or reverse),
  // at most r.limit of them.
  result<std::vector<kv>> scan(tree* t, const range& r);
  // Number of entries (an estimate from RocksDB, cheap).
  uint64_t approximate_count(tree* t);

  // Starts a transaction. Blocks while another transaction is open.
  std::unique_ptr<transaction> begin();

  // Flushes memtables and syncs the WAL (on shutdown, in tests).
  result<void> flush();

 private:
  friend class transaction;
  struct rep;
  explicit database(std::unique_ptr<rep> r);
  std::unique_ptr<rep> rep_;
};

// An atomic batch with read-your-writes. Dropping it without commit discards
// every write. Used from one thread at a time (it may move between threads).
// It holds the database's transaction lock from begin() until commit() or
// destruction, so a thread that begins a second transaction while holding one
// waits forever. After commit() reads fail with errc::internal and writes are
// ignored. It must not outlive its database.
class transaction {
 public:
  ~transaction();
  result<std::optional<std::string>> get(tree* t, std::string_view key);
  // A scan that sees this transaction's own writes merged over committed data.
  result<std::vector<kv>> scan(tree* t, const range& r);
  void put(tree* t, std::string_view key, std::string_view value);
  void del(tree* t, std::string_view key);
  // Writes everything atomically (and durably when options.fsync).
  result<void> commit();

 private:
  friend class database;
  struct rep;
  explicit transaction(std::unique_ptr<rep> r);
  std::unique_ptr<rep> rep_;
};

}  // namespace garage::db
