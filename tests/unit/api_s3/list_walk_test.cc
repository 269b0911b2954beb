// The ListObjects walk against an in-memory key list, compared with a naive
// reference over random key sets, delimiters and page sizes.
#include "api/s3/list_walk.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace garage::s3 {
namespace {

struct fake_bucket {
  std::set<std::string> keys;
  int calls = 0;
  page_source source() {
    return [this](const std::string& start, bool exclusive, size_t limit) {
      ++calls;
      std::vector<model::object> out;
      auto it = exclusive ? keys.upper_bound(start) : keys.lower_bound(start);
      for (; it != keys.end() && out.size() < limit; ++it)
        out.push_back(model::object{"b", *it, {}});
      return result<std::vector<model::object>>(std::move(out));
    };
  }
};

// Everything the listing should return, as "k:key" and "p:prefix" in order.
std::vector<std::string> reference(const std::set<std::string>& keys, const std::string& prefix,
                                   const std::string& delim) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& k : keys) {
    if (!k.starts_with(prefix)) continue;
    auto pos = delim.empty() ? std::string::npos : k.find(delim, prefix.size());
    if (pos != std::string::npos) {
      auto cp = k.substr(0, pos + delim.size());
      if (seen.insert(cp).second) out.push_back("p:" + cp);
    } else {
      out.push_back("k:" + k);
    }
  }
  return out;
}

// Lists everything page by page, resuming from next_marker as clients do.
std::vector<std::string> walk_all(fake_bucket& b, const std::string& prefix,
                                  const std::string& delim, size_t max_keys) {
  std::vector<std::string> out;
  std::string after;
  std::optional<std::string> d;
  if (!delim.empty()) d = delim;
  for (int guard = 0; guard < 10000; ++guard) {
    auto r = list_walk(b.source(), prefix, d, after, max_keys);
    EXPECT_TRUE(r.has_value());
    // Objects and prefixes are each sorted; merge them in order.
    std::vector<std::string> page;
    for (auto& o : r->objects) page.push_back(o.key);
    for (auto& p : r->common_prefixes) page.push_back(p);
    std::sort(page.begin(), page.end());
    EXPECT_LE(page.size(), max_keys);
    for (auto& e : page) {
      bool is_prefix = std::find(r->common_prefixes.begin(), r->common_prefixes.end(), e) !=
                       r->common_prefixes.end();
      out.push_back((is_prefix ? "p:" : "k:") + e);
    }
    if (!r->truncated) return out;
    EXPECT_TRUE(r->next_marker.has_value());
    after = *r->next_marker;
  }
  ADD_FAILURE() << "listing does not end";
  return out;
}

TEST(list_walk, matches_a_naive_listing_over_random_buckets) {
  const std::vector<std::string> parts = {"a", "b", "a/", "/", "x/y", "\xff", "é"};
  for (uint32_t seed = 0; seed < 300; ++seed) {
    std::mt19937 rng(seed);
    fake_bucket b;
    size_t n = rng() % 40;
    for (size_t i = 0; i < n; ++i) {
      std::string k;
      for (size_t j = 1 + rng() % 4; j > 0; --j) k += parts[rng() % parts.size()];
      b.keys.insert(k);
    }
    std::string prefix = rng() % 3 == 0 ? parts[rng() % parts.size()] : "";
    std::string delim = rng() % 2 == 0 ? "/" : "";
    size_t max_keys = 1 + rng() % 7;
    SCOPED_TRACE("seed " + std::to_string(seed));
    EXPECT_EQ(walk_all(b, prefix, delim, max_keys), reference(b.keys, prefix, delim));
  }
}

TEST(list_walk, truncation_is_exact) {
  fake_bucket b;
  b.keys = {"a", "b", "c"};
  auto r = list_walk(b.source(), "", std::nullopt, "", 3);
  EXPECT_FALSE(r->truncated);
  r = list_walk(b.source(), "", std::nullopt, "", 2);
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(*r->next_marker, "b");
  r = list_walk(b.source(), "", std::nullopt, "", 0);
  EXPECT_TRUE(r->objects.empty());
}

TEST(list_walk, a_common_prefix_is_skipped_in_one_jump) {
  fake_bucket b;
  for (int i = 0; i < 5000; ++i) b.keys.insert("dir/" + std::to_string(i));
  b.keys.insert("z");
  auto r = list_walk(b.source(), "", std::string("/"), "", 1000);
  ASSERT_EQ(r->common_prefixes.size(), 1u);
  ASSERT_EQ(r->objects.size(), 1u);
  EXPECT_LT(b.calls, 5);
}

TEST(list_walk, prefix_successor) {
  EXPECT_EQ(prefix_successor("a/"), "a0");
  EXPECT_EQ(prefix_successor(std::string("a\xff")), "b");
  EXPECT_EQ(prefix_successor(std::string("\xff")), "");
}

}  // namespace
}  // namespace garage::s3
