// A small table entry for the table tests and benchmark: a (partition, sort)
// key, a last-writer-wins string value and a deletion flag.
#pragma once

#include <string>
#include <string_view>

#include "db/db.h"
#include "util/codec.h"
#include "util/crdt/bool_flag.h"
#include "util/crdt/lww.h"
#include "util/result.h"

namespace garage::table::testing {

struct test_entry {
  std::string pk;
  std::string sk;
  crdt::lww<std::string> value;
  crdt::bool_flag deleted;

  static test_entry make(std::string pk, std::string sk, uint64_t ts, std::string v,
                         bool del = false) {
    return test_entry{std::move(pk), std::move(sk), {ts, std::move(v)}, crdt::bool_flag(del)};
  }

  std::string partition_key() const { return pk; }
  std::string sort_key() const { return sk; }
  void merge(const test_entry& o) {
    value.merge(o.value);
    deleted.merge(o.deleted);
  }
  bool is_tombstone() const { return deleted.get(); }

  std::string encode() const {
    encoder e;
    e.u8(1);
    e.bytes(pk);
    e.bytes(sk);
    crdt::encode(e, value, crdt::encode_string);
    crdt::encode(e, deleted);
    return e.take();
  }
  static result<test_entry> decode(std::string_view bytes) {
    decoder d(bytes);
    test_entry t;
    if (d.u8() != 1) return error(errc::corrupted, "unknown test_entry version");
    t.pk = d.bytes();
    t.sk = d.bytes();
    t.value = crdt::decode_lww(d, crdt::decode_string);
    t.deleted = crdt::decode_bool_flag(d);
    if (!d.complete()) return error(errc::corrupted, "truncated test_entry");
    return t;
  }
  bool operator==(const test_entry&) const = default;
};

// A schema without side effects.
template <const char* Name>
struct plain_schema {
  using entry = test_entry;
  static constexpr std::string_view name = Name;
  result<void> updated(db::transaction&, const test_entry*, const test_entry&) { return ok(); }
};

}  // namespace garage::table::testing
