// How the model reads and writes its tables, on one node or in a cluster.
//
// mtable<S> is the table the operations see. On a standalone node it is the
// local table; on a cluster node it reads and writes through the replicated
// table (quorums, read repair), except that a fully replicated table (buckets,
// keys, aliases) is read locally first and only asks a majority of the nodes
// when it finds nothing here, before answering "no such thing".
//
// meta_tx groups the reads and writes of one operation. On a standalone node
// it is one database transaction: the reads see its writes and the whole
// operation commits atomically (conditional writes are exact). On a cluster
// node there is no transaction across nodes: reads go to a quorum, writes are
// kept until commit() and then sent, all at once, each to a write quorum.
// A read through the meta_tx merges in the writes it holds. Entries are CRDTs,
// so a commit that failed half-way leaves nothing inconsistent: the writes
// that landed are merged like any other, and a retry is harmless.
//
// Thread-safety: an mtable is shared; a meta_tx belongs to one thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/db.h"
#include "table/replicated_table.h"
#include "table/table.h"
#include "util/result.h"

namespace garage::model {

class meta_tx {
 public:
  // Standalone: over a database transaction.
  explicit meta_tx(std::unique_ptr<db::transaction> tx) : tx_(std::move(tx)) {}
  // Cluster: writes are held until commit.
  meta_tx() = default;
  meta_tx(const meta_tx&) = delete;
  meta_tx& operator=(const meta_tx&) = delete;

  // The database transaction (standalone), null in a cluster.
  db::transaction* db_tx() { return tx_.get(); }

  // Standalone: commits the transaction. Cluster: sends every held write,
  // concurrently, and returns the first error.
  result<void> commit();

  // ---- for mtable ----
  struct held {
    std::string table;  // table name
    std::string key;    // storage key
    std::string bytes;  // the encoded entry (merged with later writes of the same key)
    std::function<result<void>(const std::string& bytes)> send;
  };
  held* find(std::string_view table, std::string_view key);
  void hold(held h) { held_.push_back(std::move(h)); }

 private:
  std::unique_ptr<db::transaction> tx_;
  std::vector<held> held_;
};

template <table::table_schema S>
class mtable {
 public:
  using entry = typename S::entry;
  using range_query = typename table::table<S>::range_query;

  // remote null: standalone. full: a fully replicated table.
  mtable(table::table<S>& local, table::replicated_table<S>* remote, bool full,
         std::function<std::vector<hash256>()> all_nodes = {})
      : local_(local), remote_(remote), full_(full), all_nodes_(std::move(all_nodes)) {}

  table::table<S>& local() { return local_; }
  table::replicated_table<S>* remote() { return remote_; }
  bool clustered() const { return remote_ != nullptr; }

  result<std::optional<entry>> get(std::string_view pk, std::string_view sk) {
    if (!remote_) return local_.get(pk, sk);
    if (full_) {
      GARAGE_ASSIGN_OR_RETURN(auto here, local_.get(pk, sk));
      if (here) return here;
      auto nodes = all_nodes_ ? all_nodes_() : std::vector<hash256>{};
      if (nodes.size() <= 1) return here;
      return remote_->get_from_majority(nodes, pk, sk);
    }
    return remote_->get(pk, sk);
  }

  result<std::optional<entry>> get(meta_tx& tx, std::string_view pk, std::string_view sk) {
    if (auto* dbtx = tx.db_tx()) return local_.get(*dbtx, pk, sk);
    GARAGE_ASSIGN_OR_RETURN(auto e, get(pk, sk));
    if (auto* h = tx.find(S::name, table::table<S>::storage_key(pk, sk))) {
      GARAGE_ASSIGN_OR_RETURN(auto mine, entry::decode(h->bytes));
      if (e)
        e->merge(mine);
      else
        e = std::move(mine);
    }
    return e;
  }

  // What this node's own copy holds (no network), or nothing when this node
  // does not store the partition. A hint: another node may know more.
  result<std::optional<entry>> get_local(std::string_view pk, std::string_view sk) {
    return local_.get(pk, sk);
  }

  result<void> insert(const entry& e) {
    if (!remote_) return local_.insert(e);
    return remote_->insert(e);
  }

  result<void> insert(meta_tx& tx, const entry& e) {
    if (auto* dbtx = tx.db_tx()) return local_.insert(*dbtx, e);
    std::string key = table::table<S>::storage_key(e.partition_key(), e.sort_key());
    if (auto* h = tx.find(S::name, key)) {
      GARAGE_ASSIGN_OR_RETURN(auto mine, entry::decode(h->bytes));
      mine.merge(e);
      h->bytes = mine.encode();
      return ok();
    }
    auto* remote = remote_;
    tx.hold({std::string(S::name), std::move(key), e.encode(),
             [remote](const std::string& bytes) -> result<void> {
               GARAGE_ASSIGN_OR_RETURN(auto x, entry::decode(bytes));
               return remote->insert(x);
             }});
    return ok();
  }

  result<std::vector<entry>> get_range(std::string_view pk, const range_query& q) {
    if (!remote_ || full_) return local_.get_range(pk, q);
    return remote_->get_range(pk, q);
  }

  // This node's entries (small tables; maintenance sweeps of its own copy).
  result<std::vector<entry>> scan_all(std::string_view after_storage_key, size_t limit,
                                      std::string* last_storage_key) {
    return local_.scan_all(after_storage_key, limit, last_storage_key);
  }

  std::string_view name() const { return local_.name(); }

 private:
  table::table<S>& local_;
  table::replicated_table<S>* remote_;
  bool full_;
  std::function<std::vector<hash256>()> all_nodes_;
};

}  // namespace garage::model
