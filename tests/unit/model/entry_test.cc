// The model's entries: CRDT laws of merge over random values, and encoding
// round trips (every persisted entry starts with its format byte).
#include <gtest/gtest.h>

#include <random>

#include "model/block_ref.h"
#include "model/bucket.h"
#include "model/counter.h"
#include "model/key.h"
#include "model/object.h"
#include "model/version.h"
#include "util/codec.h"
#include "util/crdt/lww.h"
#include "util/crdt/lww_map.h"

namespace garage::model {
namespace {

struct gen {
  std::mt19937_64 rng;
  uint64_t pick(uint64_t n) { return rng() % n; }
  std::string id() { return std::string(1, static_cast<char>('a' + pick(5))); }

  object_version make_version() {
    object_version v;
    v.id = id();
    // The same id always carries the same timestamp: ids are unique per upload.
    v.timestamp = 100 + static_cast<uint64_t>(v.id[0] - 'a') * 10;
    // A version's fate is fixed by its id: an upload is either completed or
    // aborted, never both (both start from "uploading" and the node decides
    // one way in one transaction). Merge is only a semilattice under that
    // protocol invariant; see object.h.
    bool fate_complete = v.id[0] % 2 == 0;
    v.state = pick(2) == 0 ? version_state::uploading
                           : (fate_complete ? version_state::complete : version_state::aborted);
    if (v.state != version_state::uploading) {
      v.data = static_cast<version_data>(1 + pick(3));
      v.meta.size = pick(3);
      v.meta.etag = "e" + std::to_string(pick(2));
      if (pick(2)) v.meta.sse_c_key_md5 = std::string(16, static_cast<char>('0' + pick(2)));
      if (v.data == version_data::inline_bytes) v.inline_data = std::string(v.meta.size, 'x');
    }
    v.multipart = pick(2);
    return v;
  }
  object obj() {
    object o;
    o.bucket_id = "b";
    o.key = "k";
    size_t n = pick(4);
    for (size_t i = 0; i < n; ++i) {
      object w;
      w.bucket_id = "b";
      w.key = "k";
      w.versions.push_back(make_version());
      o.merge(w);
    }
    return o;
  }
  version ver() {
    version v;
    v.id = "v";
    v.bucket_id = "b";
    v.key = "k";
    v.deleted = pick(4) == 0;
    if (!v.deleted) {
      size_t n = pick(4);
      for (size_t i = 0; i < n; ++i) {
        hash256 h;
        h.bytes[0] = static_cast<uint8_t>(pick(3));
        v.blocks[{0, 0, pick(4) * 10}] = {h, 10};
        if (pick(2))
          v.parts[{static_cast<uint32_t>(pick(3)), pick(2)}] = {"e" + std::to_string(pick(2)),
                                                                pick(3)};
      }
    }
    return v;
  }
  bucket bkt() {
    bucket b;
    b.id = "bk";
    b.deleted = pick(5) == 0;
    if (!b.deleted) {
      for (size_t i = pick(3); i > 0; --i) b.aliases.merge_entry(id(), {pick(5), pick(2) == 1});
      for (size_t i = pick(3); i > 0; --i) {
        b.keys.merge_entry(id(), {pick(5), bucket_permission{pick(2) == 1, pick(2) == 1, false}});
      }
      for (size_t i = pick(3); i > 0; --i)
        b.local_aliases.merge_entry(id(), {pick(5), pick(2) == 1});
      if (pick(2)) b.cors = {pick(5), id()};
      if (pick(2)) b.website = {pick(5), id()};
      if (pick(2)) b.lifecycle = {pick(5), id()};
      if (pick(2)) {
        bucket_quotas q;
        if (pick(2)) q.max_size = pick(3) * 100;
        if (pick(2)) q.max_objects = pick(3);
        b.quotas = {pick(5), q};
      }
    }
    return b;
  }
  access_key key() {
    access_key k;
    k.id = "GK";
    k.deleted = pick(5) == 0;
    if (!k.deleted) {
      k.secret = "s";
      k.name = {pick(5), id()};
      k.allow_create_bucket = {pick(5), pick(2) == 1};
      for (size_t i = pick(3); i > 0; --i) {
        k.buckets.merge_entry(id(), {pick(5), bucket_permission{true, pick(2) == 1, false}});
      }
      for (size_t i = pick(3); i > 0; --i) k.local_aliases.merge_entry(id(), {pick(5), id()});
    }
    return k;
  }
  bucket_counter counter() {
    bucket_counter c;
    c.bucket_id = "bk";
    for (size_t i = pick(3); i > 0; --i) {
      c.slots[id()] = {pick(5), bucket_counts{static_cast<int64_t>(pick(9)), 1, 0}};
    }
    return c;
  }
};

template <class T>
T merged(T a, const T& b) {
  a.merge(b);
  return a;
}

template <class T, class Make>
void check_laws(Make make, const char* what) {
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    gen g{std::mt19937_64(seed)};
    T a = make(g), b = make(g), c = make(g);
    SCOPED_TRACE(std::string(what) + " seed " + std::to_string(seed));
    ASSERT_EQ(merged(a, b), merged(b, a)) << "commutative";
    ASSERT_EQ(merged(merged(a, b), c), merged(a, merged(b, c))) << "associative";
    ASSERT_EQ(merged(a, a), a) << "idempotent";
    auto round = T::decode(a.encode());
    ASSERT_TRUE(round.has_value()) << round.error().to_string();
    ASSERT_EQ(*round, a) << "encode/decode";
  }
}

TEST(model_entries, object_merge_laws) {
  check_laws<object>([](gen& g) { return g.obj(); }, "object");
}
TEST(model_entries, version_merge_laws) {
  check_laws<version>([](gen& g) { return g.ver(); }, "version");
}
TEST(model_entries, bucket_merge_laws) {
  check_laws<bucket>([](gen& g) { return g.bkt(); }, "bucket");
}
TEST(model_entries, key_merge_laws) {
  check_laws<access_key>([](gen& g) { return g.key(); }, "key");
}
// Entries written before buckets had configuration and local aliases (format 1)
// still decode, with those fields empty.
TEST(model_entries, format_1_bucket_and_key_still_decode) {
  auto put_str = [](encoder& e, const std::string& v) { e.bytes(v); };
  auto put_bool = [](encoder& e, bool v) { e.boolean(v); };
  auto put_perm = [](encoder& e, const bucket_permission& p) { p.encode(e); };
  crdt::lww_map<std::string, bool> aliases;
  aliases.merge_entry("photos", {3, true});
  crdt::lww_map<std::string, bucket_permission> perms;
  perms.merge_entry("GK1", {4, bucket_permission{true, true, false}});
  encoder e;
  e.u8(1);
  e.bytes("bk");
  e.u64be(7);
  e.boolean(false);
  crdt::encode(e, aliases, put_str, put_bool);
  crdt::encode(e, perms, put_str, put_perm);
  auto b = bucket::decode(e.take());
  ASSERT_TRUE(b.has_value()) << b.error().to_string();
  EXPECT_EQ(b->id, "bk");
  EXPECT_EQ(b->aliases, aliases);
  EXPECT_EQ(b->keys, perms);
  EXPECT_TRUE(b->local_aliases.items().empty());
  EXPECT_EQ(b->cors.value, "");
  EXPECT_EQ(b->quotas.value, bucket_quotas{});

  crdt::lww<std::string> name{5, "k"};
  crdt::lww<bool> create{5, true};
  crdt::lww_map<std::string, bucket_permission> buckets;
  buckets.merge_entry("bk", {4, bucket_permission{true, false, false}});
  encoder k;
  k.u8(1);
  k.bytes("GK1");
  k.bytes("secret");
  k.boolean(false);
  crdt::encode(k, name, put_str);
  crdt::encode(k, create, put_bool);
  crdt::encode(k, buckets, put_str, put_perm);
  auto key = access_key::decode(k.take());
  ASSERT_TRUE(key.has_value()) << key.error().to_string();
  EXPECT_EQ(key->name.value, "k");
  EXPECT_EQ(key->buckets, buckets);
  EXPECT_TRUE(key->local_aliases.items().empty());
  EXPECT_FALSE(access_key::decode(std::string(1, '\x03')).has_value());
}

TEST(model_entries, counter_merge_laws) {
  check_laws<bucket_counter>([](gen& g) { return g.counter(); }, "counter");
}

TEST(model_entries, newest_complete_version_wins_and_older_are_dropped) {
  object o{"b", "k", {}};
  object_version old_v{
      "a", 10, version_state::complete, false, version_data::inline_bytes, {1, "e1", {}}, "x"};
  object_version uploading{"b", 15, version_state::uploading, false, version_data::none, {}, ""};
  object_version newer{"c", 20, version_state::complete, false, version_data::delete_marker,
                       {},  ""};
  o.merge(object{"b", "k", {old_v}});
  o.merge(object{"b", "k", {uploading}});
  ASSERT_EQ(o.versions.size(), 2u);
  EXPECT_EQ(o.current()->id, "a");
  o.merge(object{"b", "k", {newer}});
  ASSERT_EQ(o.versions.size(), 1u);
  EXPECT_EQ(o.current(), nullptr);  // a delete marker
  EXPECT_TRUE(o.is_tombstone());
}

TEST(model_entries, aborted_beats_complete_beats_uploading) {
  object_version up{"a", 10, version_state::uploading, false, version_data::none, {}, ""};
  auto done = up;
  done.state = version_state::complete;
  done.data = version_data::blocks;
  auto aborted = up;
  aborted.state = version_state::aborted;
  object o{"b", "k", {up}};
  o.merge(object{"b", "k", {done}});
  EXPECT_TRUE(o.versions[0].is_complete());
  o.merge(object{"b", "k", {aborted}});
  EXPECT_EQ(o.versions[0].state, version_state::aborted);
}

TEST(model_entries, truncated_entries_are_corruption_not_crashes) {
  object o{"b",
           "k",
           {{"a",
             10,
             version_state::complete,
             false,
             version_data::inline_bytes,
             {3, "e", {{"content-type", "text/plain"}}},
             "xyz"}}};
  auto bytes = o.encode();
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = object::decode(bytes.substr(0, n));
    ASSERT_FALSE(r.has_value()) << n;
    EXPECT_EQ(r.error().code, errc::corrupted);
  }
  EXPECT_FALSE(version::decode("\x07garbage").has_value());
  EXPECT_FALSE(block_ref::decode("").has_value());
}

}  // namespace
}  // namespace garage::model
