// insert_queue<S>: entries waiting to be written to a replicated table,
// queued inside another transaction and sent by a background drain.
//
// This is how a schema hook reaches a table whose entries live on other
// nodes (object → version → block reference): the hook cannot wait for a
// quorum inside the local transaction, so it queues the entry in the same
// transaction (tree "<table>:insert_queue"), and drain() writes it with a
// quorum later. A queued entry is merged with one already queued for the same
// key, so the queue holds one entry per key whatever the number of changes.
// Nothing is lost: an entry leaves the queue only after its quorum write
// succeeded and only if it did not change meanwhile.
//
// Thread-safety: push() runs in the caller's transaction; drain() may run
// from any thread (one drain at a time per queue is enough, more are safe).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "db/db.h"
#include "table/replicated_table.h"
#include "util/hash.h"
#include "util/result.h"

namespace garage::table {

template <table_schema S>
class insert_queue {
 public:
  using entry = typename S::entry;

  static result<std::unique_ptr<insert_queue>> open(db::database& db, replicated_table<S>& target) {
    GARAGE_ASSIGN_OR_RETURN(db::tree * t, db.open_tree(std::string(S::name) + ":insert_queue"));
    return std::unique_ptr<insert_queue>(new insert_queue(db, target, t));
  }

  // Queues e (merged with what is queued for its key) in the caller's transaction.
  result<void> push(db::transaction& tx, const entry& e) {
    const std::string key = table<S>::storage_key(e.partition_key(), e.sort_key());
    GARAGE_ASSIGN_OR_RETURN(auto queued, tx.get(tree_, key));
    entry merged = e;
    if (queued) {
      auto old = entry::decode(*queued);
      if (old) {
        merged = *old;
        merged.merge(e);
      }
    }
    tx.put(tree_, key, merged.encode());
    return ok();
  }

  // Sends up to `max` queued entries; returns how many left the queue. On a
  // failed write the entries stay queued and the error is returned.
  result<size_t> drain(size_t max = 100) {
    db::range r;
    r.limit = max;
    GARAGE_ASSIGN_OR_RETURN(auto batch, db_.scan(tree_, r));
    if (batch.empty()) return size_t{0};
    std::vector<entry> es;
    std::vector<const db::kv*> sent;
    for (const auto& kv : batch) {
      auto e = entry::decode(kv.value);
      if (!e) continue;  // undecodable: dropped below (logged by the count)
      es.push_back(std::move(*e));
      sent.push_back(&kv);
    }
    GARAGE_TRY(target_.insert_many(es));
    auto tx = db_.begin();
    size_t removed = 0;
    for (const auto& kv : batch) {
      GARAGE_ASSIGN_OR_RETURN(auto now, tx->get(tree_, kv.key));
      if (now && *now == kv.value) {
        tx->del(tree_, kv.key);
        ++removed;
      }
    }
    GARAGE_TRY(tx->commit());
    return removed;
  }

  uint64_t length() const { return db_.approximate_count(tree_); }
  // Exact count (tests, status): scans the queue.
  result<uint64_t> count() const {
    db::range r;
    r.limit = 1'000'000;
    GARAGE_ASSIGN_OR_RETURN(auto all, db_.scan(tree_, r));
    return static_cast<uint64_t>(all.size());
  }

 private:
  insert_queue(db::database& db, replicated_table<S>& target, db::tree* tree)
      : db_(db), target_(target), tree_(tree) {}

  db::database& db_;
  replicated_table<S>& target_;
  db::tree* tree_;
};

}  // namespace garage::table
