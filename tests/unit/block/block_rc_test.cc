#include "block/block_rc.h"

#include <gtest/gtest.h>

namespace garage::block {
namespace {

TEST(block_rc, entry_round_trips) {
  for (rc_entry e : {rc_entry{0, 0}, rc_entry{1, 0}, rc_entry{0, 1700000000000},
                     rc_entry{UINT64_MAX, UINT64_MAX}, rc_entry{300, 5}}) {
    std::string bytes = encode_rc_entry(e);
    EXPECT_EQ(static_cast<uint8_t>(bytes[0]), rc_entry_version);
    auto back = decode_rc_entry(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, e);
  }
}

TEST(block_rc, entry_rejects_unknown_version_and_bad_lengths) {
  std::string bytes = encode_rc_entry({3, 42});
  std::string other_version = bytes;
  other_version[0] = 2;
  EXPECT_FALSE(decode_rc_entry(other_version));
  EXPECT_FALSE(decode_rc_entry(bytes.substr(0, bytes.size() - 1)));
  EXPECT_FALSE(decode_rc_entry(bytes + "x"));
  EXPECT_FALSE(decode_rc_entry(""));
}

hash256 id_of(uint8_t b) {
  hash256 h;
  h.bytes.fill(b);
  return h;
}

TEST(block_rc, gc_keys_sort_by_time_then_id) {
  std::string a = encode_gc_key({5, id_of(0xff)});
  std::string b = encode_gc_key({6, id_of(0x00)});
  std::string c = encode_gc_key({6, id_of(0x01)});
  std::string d = encode_gc_key({256, id_of(0x00)});
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(c, d);
  auto back = decode_gc_key(c);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->zero_since_msec, 6u);
  EXPECT_EQ(back->id, id_of(0x01));
  EXPECT_FALSE(decode_gc_key(c.substr(1)));
  EXPECT_FALSE(decode_gc_key(c + "x"));
}

TEST(block_rc, gc_bound_includes_exactly_the_old_enough_keys) {
  for (uint64_t t :
       {uint64_t{0}, uint64_t{6}, uint64_t{255}, uint64_t{1} << 40, UINT64_MAX - 1, UINT64_MAX}) {
    std::string bound = gc_key_bound(t);
    EXPECT_LT(encode_gc_key({t, id_of(0xff)}), bound) << t;
    if (t > 0) {
      EXPECT_LT(encode_gc_key({t - 1, id_of(0xff)}), bound) << t;
    }
    if (t < UINT64_MAX) {
      EXPECT_GE(encode_gc_key({t + 1, id_of(0x00)}), bound) << t;
    }
  }
}

}  // namespace
}  // namespace garage::block
