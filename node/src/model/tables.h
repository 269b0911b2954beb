// The tables of the data model and the hooks that keep them in step.
//
// Hooks run inside the transaction of the insert that triggered them, so an
// object change, its version deletions, block reference changes, reference
// counts and bucket counters are one atomic write:
//   object  → version (a version dropped or aborted is marked deleted)
//           → bucket_counter (this node's slot)
//   version → block_ref (new blocks referenced; all dropped when deleted)
//   block_ref → block reference counts
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "block/block_manager.h"
#include "model/block_ref.h"
#include "model/bucket.h"
#include "model/counter.h"
#include "model/key.h"
#include "model/object.h"
#include "model/version.h"
#include "table/table.h"

namespace garage::model {

// Schemas whose entries need no side effects.
template <class E, const char* Name>
struct plain_schema {
  using entry = E;
  static constexpr std::string_view name = Name;
  result<void> updated(db::transaction&, const E*, const E&) { return ok(); }
};

inline constexpr char kBucketTable[] = "bucket";
inline constexpr char kAliasTable[] = "bucket_alias";
inline constexpr char kKeyTable[] = "key";
inline constexpr char kCounterTable[] = "bucket_counter";

using bucket_table = table::table<plain_schema<bucket, kBucketTable>>;
using alias_table = table::table<plain_schema<bucket_alias, kAliasTable>>;
using key_table = table::table<plain_schema<access_key, kKeyTable>>;
using counter_table = table::table<plain_schema<bucket_counter, kCounterTable>>;

// A hook's write to another table, inside the transaction of the insert that
// triggered it: on a standalone node the local table's insert; on a cluster
// node a push to that table's insert queue (the entry lives on other nodes).
template <class E>
using emit_fn = std::function<result<void>(db::transaction&, const E&)>;

struct block_ref_schema {
  using entry = block_ref;
  static constexpr std::string_view name = "block_ref";
  block::block_manager* blocks;
  result<void> updated(db::transaction& tx, const block_ref* old, const block_ref& now);
};
using block_ref_table = table::table<block_ref_schema>;

struct version_schema {
  using entry = version;
  static constexpr std::string_view name = "version";
  emit_fn<block_ref> refs;
  result<void> updated(db::transaction& tx, const version* old, const version& now);
};
using version_table = table::table<version_schema>;

struct object_schema {
  using entry = object;
  static constexpr std::string_view name = "object";
  emit_fn<version> versions;
  counter_table* counters;
  std::string node_id;  // this node's counter slot
  result<void> updated(db::transaction& tx, const object* old, const object& now);
};
using object_table = table::table<object_schema>;

// Every entry of a (small) table that `keep` accepts, read in pages.
template <class Table, class Keep>
result<std::vector<typename Table::entry>> scan_entries(Table& t, Keep keep) {
  std::vector<typename Table::entry> out;
  std::string cursor;
  constexpr size_t kPage = 1000;
  while (true) {
    std::string last;
    GARAGE_ASSIGN_OR_RETURN(auto page, t.scan_all(cursor, kPage, &last));
    for (auto& e : page) {
      if (keep(e)) out.push_back(std::move(e));
    }
    if (page.size() < kPage) return out;
    cursor = last;
  }
}

// What an object entry contributes to its bucket's counters.
bucket_counts counts_of(const object* o);

}  // namespace garage::model
