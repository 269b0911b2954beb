// CRDT primitives: the semilattice laws on random values (commutative,
// associative, idempotent merge), encode/decode round trips, and the intended
// semantics of each type.
//
// The random values come from std::mt19937 with a seed printed on failure;
// rerun with GARAGE_TEST_SEED=<seed> to reproduce.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>

#include "util/clock.h"
#include "util/crdt/bool_flag.h"
#include "util/crdt/crdt_map.h"
#include "util/crdt/deletable.h"
#include "util/crdt/lww.h"
#include "util/crdt/lww_map.h"
#include "util/crdt/max.h"

namespace garage::crdt {
namespace {

using rng_t = std::mt19937;

uint32_t test_seed() {
  if (const char* s = std::getenv("GARAGE_TEST_SEED")) return static_cast<uint32_t>(std::stoul(s));
  return std::random_device{}();
}

constexpr int rounds = 1000;

// Checks the semilattice laws and the codec on `rounds` random triples.
template <class T, class Gen, class Enc, class Dec>
void check_laws(Gen gen, Enc enc, Dec dec) {
  const uint32_t seed = test_seed();
  SCOPED_TRACE("seed " + std::to_string(seed) +
               " (rerun with GARAGE_TEST_SEED=" + std::to_string(seed) + ")");
  rng_t rng(seed);
  for (int i = 0; i < rounds; ++i) {
    T a = gen(rng), b = gen(rng), c = gen(rng);
    ASSERT_TRUE(merged(a, b) == merged(b, a)) << "merge not commutative, round " << i;
    ASSERT_TRUE(merged(merged(a, b), c) == merged(a, merged(b, c)))
        << "merge not associative, round " << i;
    ASSERT_TRUE(merged(a, a) == a) << "merge not idempotent, round " << i;
    ASSERT_TRUE(merged(merged(a, b), b) == merged(a, b)) << "merge not absorbing, round " << i;

    encoder e;
    enc(e, a);
    std::string bytes = e.take();
    decoder d(bytes);
    T back = dec(d);
    ASSERT_TRUE(d.complete()) << "decode did not consume its encoding, round " << i;
    ASSERT_TRUE(back == a) << "round trip changed the value, round " << i;
    // Any proper prefix is refused.
    if (!bytes.empty()) {
      size_t cut = std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng);
      decoder short_d(std::string_view(bytes).substr(0, cut));
      (void)dec(short_d);
      ASSERT_TRUE(short_d.failed()) << "truncated input accepted (" << cut << " of " << bytes.size()
                                    << " bytes), round " << i;
    }
  }
}

int pick(rng_t& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

// Small domains, so that equal timestamps, equal keys and ties are frequent.
uint32_t small_u32(rng_t& rng) { return static_cast<uint32_t>(pick(rng, 0, 3)); }
std::string small_string(rng_t& rng) {
  static const char* words[] = {"", "a", "b", "ab", "ba"};
  return words[pick(rng, 0, 4)];
}

void enc_u32(encoder& e, const uint32_t& v) { e.u32be(v); }
uint32_t dec_u32(decoder& d) { return d.u32be(); }

lww<uint32_t> gen_lww_u32(rng_t& rng) {
  return {static_cast<uint64_t>(pick(rng, 0, 3)), small_u32(rng)};
}
lww<std::string> gen_lww_string(rng_t& rng) {
  return {static_cast<uint64_t>(pick(rng, 0, 3)), small_string(rng)};
}

TEST(crdt_laws, lww_u32) {
  check_laws<lww<uint32_t>>(
      gen_lww_u32, [](encoder& e, const lww<uint32_t>& v) { encode(e, v, enc_u32); },
      [](decoder& d) { return decode_lww(d, dec_u32); });
}

TEST(crdt_laws, lww_string) {
  check_laws<lww<std::string>>(
      gen_lww_string, [](encoder& e, const lww<std::string>& v) { encode(e, v, encode_string); },
      [](decoder& d) { return decode_lww(d, decode_string); });
}

TEST(crdt_laws, max_u64) {
  auto gen = [](rng_t& rng) {
    return max<uint64_t>{pick(rng, 0, 9) == 0 ? UINT64_MAX
                                              : static_cast<uint64_t>(pick(rng, 0, 5))};
  };
  check_laws<max<uint64_t>>(
      gen, [](encoder& e, const max<uint64_t>& v) { encode(e, v, encode_u64); },
      [](decoder& d) { return decode_max(d, decode_u64); });
}

TEST(crdt_laws, bool_flag) {
  check_laws<bool_flag>([](rng_t& rng) { return bool_flag(pick(rng, 0, 1) == 1); },
                        [](encoder& e, const bool_flag& v) { encode(e, v); },
                        [](decoder& d) { return decode_bool_flag(d); });
}

using str_u32_map = lww_map<std::string, uint32_t>;
str_u32_map gen_lww_map(rng_t& rng) {
  str_u32_map m;
  int n = pick(rng, 0, 4);
  for (int i = 0; i < n; ++i) {
    std::string k(1, static_cast<char>('a' + pick(rng, 0, 3)));
    m.merge_entry(k, gen_lww_u32(rng));
  }
  return m;
}
void enc_lww_map(encoder& e, const str_u32_map& m) { encode(e, m, encode_string, enc_u32); }
str_u32_map dec_lww_map(decoder& d) { return decode_lww_map(d, decode_string, dec_u32); }

TEST(crdt_laws, lww_map) { check_laws<str_u32_map>(gen_lww_map, enc_lww_map, dec_lww_map); }

using del_lww = deletable<lww<uint32_t>>;
del_lww gen_del_lww(rng_t& rng) {
  if (pick(rng, 0, 3) == 0) return del_lww::deleted();
  return del_lww(gen_lww_u32(rng));
}
void enc_del_lww(encoder& e, const del_lww& v) {
  encode(e, v, [](encoder& e2, const lww<uint32_t>& x) { encode(e2, x, enc_u32); });
}
del_lww dec_del_lww(decoder& d) {
  return decode_deletable(d, [](decoder& d2) { return decode_lww(d2, dec_u32); });
}

TEST(crdt_laws, deletable_lww) { check_laws<del_lww>(gen_del_lww, enc_del_lww, dec_del_lww); }

using del_flag = deletable<bool_flag>;
TEST(crdt_laws, deletable_bool_flag) {
  check_laws<del_flag>(
      [](rng_t& rng) {
        return pick(rng, 0, 2) == 0 ? del_flag::deleted() : del_flag(bool_flag(pick(rng, 0, 1)));
      },
      [](encoder& e, const del_flag& v) {
        encode(e, v, [](encoder& e2, const bool_flag& f) { encode(e2, f); });
      },
      [](decoder& d) { return decode_deletable(d, decode_bool_flag); });
}

using obj_map = crdt_map<std::string, del_lww>;
obj_map gen_obj_map(rng_t& rng) {
  obj_map m;
  int n = pick(rng, 0, 4);
  for (int i = 0; i < n; ++i) m.put(small_string(rng), gen_del_lww(rng));
  return m;
}
void enc_obj_map(encoder& e, const obj_map& m) { encode(e, m, encode_string, enc_del_lww); }
obj_map dec_obj_map(decoder& d) { return decode_crdt_map(d, decode_string, dec_del_lww); }

TEST(crdt_laws, crdt_map_of_deletable_lww) {
  check_laws<obj_map>(gen_obj_map, enc_obj_map, dec_obj_map);
}

using nested_map = crdt_map<uint64_t, str_u32_map>;
TEST(crdt_laws, crdt_map_of_lww_map) {
  check_laws<nested_map>(
      [](rng_t& rng) {
        nested_map m;
        int n = pick(rng, 0, 3);
        for (int i = 0; i < n; ++i) m.put(static_cast<uint64_t>(pick(rng, 0, 2)), gen_lww_map(rng));
        return m;
      },
      [](encoder& e, const nested_map& m) { encode(e, m, encode_u64, enc_lww_map); },
      [](decoder& d) { return decode_crdt_map(d, decode_u64, dec_lww_map); });
}

using del_map = deletable<obj_map>;
TEST(crdt_laws, deletable_crdt_map) {
  check_laws<del_map>(
      [](rng_t& rng) {
        return pick(rng, 0, 4) == 0 ? del_map::deleted() : del_map(gen_obj_map(rng));
      },
      [](encoder& e, const del_map& v) { encode(e, v, enc_obj_map); },
      [](decoder& d) { return decode_deletable(d, dec_obj_map); });
}

// The law checker itself must be able to fail: a register in which the last
// merge wins is not commutative.
struct arrival_register {
  uint32_t v = 0;
  void merge(const arrival_register& o) { v = o.v; }
  bool operator==(const arrival_register&) const = default;
};

void check_broken_register() {
  check_laws<arrival_register>([](rng_t& rng) { return arrival_register{small_u32(rng)}; },
                               [](encoder& e, const arrival_register& r) { e.u32be(r.v); },
                               [](decoder& d) { return arrival_register{d.u32be()}; });
}

TEST(crdt_laws, checker_detects_a_non_commutative_merge) {
  EXPECT_FATAL_FAILURE(check_broken_register(), "not commutative");
}

// Semantics.

TEST(lww, higher_timestamp_wins_then_larger_value) {
  lww<std::string> a{5, "a"}, b{7, "0"};
  a.merge(b);
  EXPECT_EQ(a, (lww<std::string>{7, "0"}));
  a.merge(lww<std::string>{6, "zzz"});
  EXPECT_EQ(a.value, "0");
  a.merge(lww<std::string>{7, "1"});
  EXPECT_EQ(a.value, "1");
  a.merge(lww<std::string>{7, "0"});
  EXPECT_EQ(a.value, "1");
}

TEST(lww, update_moves_the_timestamp_forward) {
  lww<int> a;
  a.update(3);
  EXPECT_EQ(a.value, 3);
  EXPECT_GE(a.timestamp, now_msec() - 60'000);
  // A timestamp from a node whose clock is ahead is still overtaken.
  uint64_t future = now_msec() + 3'600'000;
  a.timestamp = future;
  a.update(4);
  EXPECT_EQ(a.timestamp, future + 1);
  EXPECT_EQ(a.value, 4);
  lww<int> stale{future, 100};
  a.merge(stale);
  EXPECT_EQ(a.value, 4);
}

TEST(lww_map, put_get_and_per_key_merge) {
  lww_map<std::string, int> m;
  EXPECT_EQ(m.get("k"), nullptr);
  m.put("k", 1);
  ASSERT_NE(m.get("k"), nullptr);
  EXPECT_EQ(*m.get("k"), 1);
  uint64_t t1 = m.entry("k")->timestamp;
  m.put("k", 2);
  EXPECT_GT(m.entry("k")->timestamp, t1);
  EXPECT_EQ(*m.get("k"), 2);

  lww_map<std::string, int> other;
  other.merge_entry("k", lww<int>{1, 99});  // older: loses
  other.merge_entry("j", lww<int>{1, 7});   // new key
  other.merge_entry("k", lww<int>{1, 98});  // same timestamp: larger value kept
  EXPECT_EQ(*other.get("k"), 99);
  m.merge(other);
  EXPECT_EQ(*m.get("k"), 2);
  EXPECT_EQ(*m.get("j"), 7);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.items().begin()->first, "j");
}

TEST(bool_flag, only_goes_up) {
  bool_flag f;
  EXPECT_FALSE(f.get());
  f.merge(bool_flag(false));
  EXPECT_FALSE(f);
  f.merge(bool_flag(true));
  EXPECT_TRUE(f.get());
  f.merge(bool_flag(false));
  EXPECT_TRUE(f.get());
  bool_flag g;
  g.set();
  EXPECT_EQ(f, g);
}

TEST(deletable, deleted_absorbs) {
  deletable<max<int>> a(max<int>{3});
  ASSERT_NE(a.get(), nullptr);
  EXPECT_EQ(a.get()->value, 3);
  a.merge(deletable<max<int>>(max<int>{5}));
  EXPECT_EQ(a.get()->value, 5);
  a.merge(deletable<max<int>>::deleted());
  EXPECT_TRUE(a.is_deleted());
  EXPECT_EQ(a.get(), nullptr);
  a.merge(deletable<max<int>>(max<int>{9}));
  EXPECT_TRUE(a.is_deleted());
  deletable<max<int>> b;  // present, bottom
  EXPECT_FALSE(b.is_deleted());
  b.remove();
  EXPECT_EQ(a, b);
}

TEST(crdt_map, put_merges_values) {
  crdt_map<std::string, max<int>> m;
  m.put("a", max<int>{2});
  m.put("a", max<int>{1});
  m.put("b", max<int>{4});
  EXPECT_EQ(m.get("a")->value, 2);
  EXPECT_EQ(m.get("b")->value, 4);
  EXPECT_EQ(m.get("c"), nullptr);
  crdt_map<std::string, max<int>> o;
  o.put("a", max<int>{10});
  m.merge(o);
  EXPECT_EQ(m.get("a")->value, 10);
  EXPECT_EQ(m.size(), 2u);
}

TEST(crdt_codec, unknown_version_is_refused) {
  encoder e;
  encode(e, lww<uint32_t>{1, 2}, enc_u32);
  std::string bytes = e.take();
  bytes[0] = 2;
  decoder d(bytes);
  (void)decode_lww(d, dec_u32);
  EXPECT_TRUE(d.failed());

  rng_t rng(1);
  obj_map m;
  m.put("k", gen_del_lww(rng));
  encoder e2;
  enc_obj_map(e2, m);
  bytes = e2.take();
  bytes[0] = 0;
  decoder d2(bytes);
  (void)dec_obj_map(d2);
  EXPECT_TRUE(d2.failed());
}

TEST(crdt_codec, bool_flag_refuses_other_bytes) {
  decoder d(std::string_view("\x02", 1));
  (void)decode_bool_flag(d);
  EXPECT_TRUE(d.failed());
}

TEST(crdt_codec, huge_count_is_refused) {
  encoder e;
  e.u8(codec_version);
  e.varint(uint64_t{1} << 40);
  decoder d(e.view());
  auto m = dec_lww_map(d);
  EXPECT_TRUE(d.failed());
  EXPECT_TRUE(m.empty());
}

}  // namespace
}  // namespace garage::crdt
