// Versioned binary encoding of layout values: round trips, and refusal of
// truncated, corrupted or unknown-format input.
#include <gtest/gtest.h>

#include <random>

#include "layout/layout.h"
#include "layout_test_util.h"

namespace garage::layout {
namespace {

using testing::make_id;
using testing::TB;

layout_history sample_history() {
  layout_history h;
  EXPECT_TRUE(h.stage_role(make_id(1), node_role::storage("a", TB, {"ssd"})));
  EXPECT_TRUE(h.stage_role(make_id(2), node_role::storage("b", 2 * TB)));
  EXPECT_TRUE(h.stage_role(make_id(3), node_role::storage("c", TB)));
  EXPECT_TRUE(h.stage_role(make_id(4), node_role::gateway("c", {"edge", "eu"})));
  EXPECT_TRUE(h.apply(1).has_value());
  EXPECT_TRUE(h.stage_role(make_id(5), node_role::storage("a", TB)));
  EXPECT_TRUE(h.stage_parameters({2, zone_redundancy::at_least(2)}));
  EXPECT_TRUE(h.apply(2).has_value());
  h.set_ack(make_id(1), 2);
  h.set_sync(make_id(2), 2);
  h.set_sync_ack(make_id(3), 1);
  EXPECT_TRUE(h.stage_remove(make_id(4)));
  EXPECT_TRUE(h.stage_parameters({3, zone_redundancy::maximum()}));
  return h;
}

TEST(layout_codec, history_round_trips) {
  layout_history h = sample_history();
  ASSERT_EQ(h.versions().size(), 2u);
  std::string bytes = encode_layout_history(h);
  EXPECT_EQ(bytes[0], 1);  // format version first
  auto back = decode_layout_history(bytes);
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(*back, h);
  EXPECT_EQ(encode_layout_history(*back), bytes);
}

TEST(layout_codec, version_and_staging_round_trip) {
  layout_history h = sample_history();
  for (const auto& v : h.versions()) {
    auto back = decode_layout_version(encode_layout_version(v));
    ASSERT_TRUE(back.has_value()) << back.error().to_string();
    EXPECT_EQ(*back, v);
  }
  auto empty = decode_layout_version(encode_layout_version(layout_version()));
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, layout_version());
  auto staging = decode_layout_staging(encode_layout_staging(h.staging()));
  ASSERT_TRUE(staging.has_value());
  EXPECT_EQ(*staging, h.staging());
}

TEST(layout_codec, refuses_truncation_trailing_bytes_and_unknown_formats) {
  std::string bytes = encode_layout_history(sample_history());
  for (size_t cut = 0; cut < bytes.size(); cut += 7) {
    auto r = decode_layout_history(std::string_view(bytes).substr(0, cut));
    EXPECT_FALSE(r.has_value()) << "prefix of " << cut << " bytes decoded";
  }
  EXPECT_EQ(decode_layout_history(bytes + "x").error().code, errc::corrupted);
  std::string future = bytes;
  future[0] = 2;
  EXPECT_EQ(decode_layout_history(future).error().code, errc::not_implemented);
}

TEST(layout_codec, corrupted_bytes_never_yield_an_invalid_layout) {
  const std::string bytes = encode_layout_history(sample_history());
  std::mt19937 rng(42);
  for (int i = 0; i < 3000; ++i) {
    std::string mutated = bytes;
    for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips)
      mutated[rng() % mutated.size()] = static_cast<char>(rng());
    auto r = decode_layout_history(mutated);
    if (!r) continue;
    // Whatever decodes routes only to storage nodes with a role.
    for (const auto& v : r->versions())
      for (uint32_t p = 0; p < partition_count; ++p)
        for (const auto& n : v.nodes_of(p)) {
          auto it = v.roles().find(n);
          ASSERT_TRUE(it != v.roles().end() && !it->second.is_gateway());
        }
  }
}

}  // namespace
}  // namespace garage::layout
