// What a table needs from its entries and its schema, as concepts.
//
// An entry E is a CRDT value with a place in the table:
//   std::string partition_key() const;   which partition (hashed to place it)
//   std::string sort_key() const;        order within the partition
//   void merge(const E& other);          join-semilattice merge (see util/crdt)
//   bool is_tombstone() const;           a deletion the table may forget later
//   std::string encode() const;          versioned bytes (first byte: version)
//   static result<E> decode(std::string_view);
//   bool operator==(const E&) const;
// Encoding must be deterministic: the table compares stored bytes to tell
// whether an insert changed anything.
//
// A schema S names the table and reacts to changes:
//   using entry = E;
//   static constexpr std::string_view name = "object";   (the db tree)
//   result<void> updated(db::transaction& tx, const E* old_entry, const E& new_entry);
// `updated` runs inside the insert's transaction whenever the stored entry
// changed (old_entry is null when there was none), so that indexes, counters
// and reference counts are written in the same atomic batch. An error aborts
// the insert. It may insert into other tables with the same `tx`, but must not
// begin a transaction of its own (transactions are serialised: it would wait
// for itself).
#pragma once

#include <concepts>
#include <string>
#include <string_view>

#include "db/db.h"
#include "util/result.h"

namespace garage::table {

template <class E>
concept table_entry = std::copyable<E> && std::equality_comparable<E> &&
    requires(E& e, const E& ce, std::string_view bytes) {
  { ce.partition_key() } -> std::convertible_to<std::string>;
  { ce.sort_key() } -> std::convertible_to<std::string>;
  e.merge(ce);
  { ce.is_tombstone() } -> std::convertible_to<bool>;
  { ce.encode() } -> std::convertible_to<std::string>;
  { E::decode(bytes) } -> std::same_as<result<E>>;
};

template <class S>
concept table_schema = std::movable<S> && table_entry<typename S::entry> &&
    requires(S& s, db::transaction& tx, const typename S::entry* old_entry,
             const typename S::entry& new_entry) {
  { S::name } -> std::convertible_to<std::string_view>;
  { s.updated(tx, old_entry, new_entry) } -> std::same_as<result<void>>;
};

}  // namespace garage::table
