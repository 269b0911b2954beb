// Bucket configuration: the pure parts (CORS matching, website and lifecycle
// documents and predicates) and, over a real store, quotas and the lifecycle
// worker.
#include "model/bucket_config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "model/bucket_ops.h"
#include "model/cors.h"
#include "model/lifecycle.h"
#include "model/lifecycle_worker.h"
#include "model/multipart_ops.h"
#include "model/object_ops.h"
#include "model/store.h"
#include "model/website_config.h"
#include "util/random.h"

namespace garage::model {
namespace {

// ------------------------------------------------------------------ CORS

cors_config sample_cors() {
  cors_config c;
  cors_rule a;
  a.id = "uploads";
  a.allowed_origins = {"https://*.example.com"};
  a.allowed_methods = {"PUT", "POST"};
  a.allowed_headers = {"x-amz-*", "Content-Type"};
  a.expose_headers = {"ETag"};
  a.max_age_seconds = 600;
  cors_rule b;
  b.allowed_origins = {"*"};
  b.allowed_methods = {"GET"};
  c.rules = {a, b};
  return c;
}

TEST(cors, wildcard_match) {
  EXPECT_TRUE(wildcard_match("*", ""));
  EXPECT_TRUE(wildcard_match("*", "anything"));
  EXPECT_TRUE(wildcard_match("https://*.example.com", "https://a.example.com"));
  EXPECT_TRUE(wildcard_match("https://*.example.com", "https://a.b.example.com"));
  EXPECT_FALSE(wildcard_match("https://*.example.com", "http://a.example.com"));
  EXPECT_FALSE(wildcard_match("https://*.example.com", "https://example.com"));
  EXPECT_TRUE(wildcard_match("abc", "abc"));
  EXPECT_FALSE(wildcard_match("abc", "abcd"));
  EXPECT_FALSE(wildcard_match("ab*ba", "aba"));  // head and tail may not overlap
}

TEST(cors, split_header_list) {
  EXPECT_EQ(split_header_list(" X-Amz-Date, content-type ,,Authorization"),
            (std::vector<std::string>{"x-amz-date", "content-type", "authorization"}));
  EXPECT_TRUE(split_header_list("").empty());
}

TEST(cors, rule_matching) {
  auto c = sample_cors();
  const cors_rule* r = find_cors_rule(c, "https://app.example.com", "PUT", {"x-amz-date"});
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->id, "uploads");
  // Headers compare without case, each requested header must be allowed.
  EXPECT_NE(find_cors_rule(c, "https://app.example.com", "PUT", {"content-type"}), nullptr);
  EXPECT_EQ(find_cors_rule(c, "https://app.example.com", "PUT", {"authorization"}), nullptr);
  // Methods and origins compare with case.
  EXPECT_EQ(find_cors_rule(c, "https://app.example.com", "put"), nullptr);
  EXPECT_EQ(find_cors_rule(c, "https://evil.com", "PUT"), nullptr);
  // The second rule: any origin, GET only.
  r = find_cors_rule(c, "https://evil.com", "GET");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->allowed_origins[0], "*");
  EXPECT_EQ(find_cors_rule(c, "https://evil.com", "DELETE"), nullptr);
  EXPECT_EQ(find_cors_rule(cors_config{}, "https://a", "GET"), nullptr);
}

TEST(cors, response_headers) {
  auto c = sample_cors();
  auto h = cors_response_headers(c.rules[0], "https://app.example.com", true, {"x-amz-date"});
  auto get = [&](std::string_view name) -> std::string {
    for (auto& [k, v] : h)
      if (k == name) return v;
    return "<absent>";
  };
  EXPECT_EQ(get("Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(get("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(get("Access-Control-Allow-Methods"), "PUT, POST");
  EXPECT_EQ(get("Access-Control-Allow-Headers"), "x-amz-date");
  EXPECT_EQ(get("Access-Control-Max-Age"), "600");
  EXPECT_EQ(get("Access-Control-Expose-Headers"), "<absent>");
  EXPECT_NE(get("Vary").find("Origin"), std::string::npos);

  h = cors_response_headers(c.rules[0], "https://app.example.com", false);
  EXPECT_EQ(get("Access-Control-Expose-Headers"), "ETag");
  EXPECT_EQ(get("Access-Control-Allow-Methods"), "<absent>");

  h = cors_response_headers(c.rules[1], "https://x.org", false);
  EXPECT_EQ(get("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(get("Access-Control-Allow-Credentials"), "<absent>");
}

TEST(cors, json_round_trip) {
  auto c = sample_cors();
  auto back = cors_from_json(cors_to_json(c));
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(*back, c);
  EXPECT_FALSE(cors_from_json("").has_value());
  EXPECT_FALSE(cors_from_json("{\"rules\": 3}").has_value());
}

// ------------------------------------------------------------------ website

TEST(website, json_round_trip_and_routing) {
  website_config w;
  w.index_document = "index.html";
  w.error_document = "404.html";
  website_routing_rule docs;
  docs.key_prefix_equals = "docs/";
  docs.replace_key_prefix_with = "documents/";
  docs.http_redirect_code = 302;
  website_routing_rule missing;
  missing.http_error_code_returned_equals = 404;
  missing.host_name = "fallback.example.com";
  missing.protocol = "https";
  missing.replace_key_with = "gone.html";
  w.routing_rules = {docs, missing};

  auto back = website_from_json(website_to_json(w));
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(*back, w);

  const auto* r = find_routing_rule(w, "docs/a.html");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(routing_redirect_location(*r, "docs/a.html", "http"), "/documents/a.html");
  EXPECT_EQ(find_routing_rule(w, "other.html"), nullptr);  // 404 rule needs the error
  r = find_routing_rule(w, "other.html", 404);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(routing_redirect_location(*r, "other.html", "http"),
            "https://fallback.example.com/gone.html");
  EXPECT_EQ(find_routing_rule(w, "other.html", 403), nullptr);
}

TEST(website, redirect_all) {
  website_config w;
  w.redirect_all = website_redirect_all{"example.org", "https"};
  auto back = website_from_json(website_to_json(w));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, w);
  EXPECT_FALSE(website_from_json("{}").has_value());  // neither index nor redirect
}

// ------------------------------------------------------------------ lifecycle

constexpr uint64_t kDay = kDayMsec;

TEST(lifecycle, filter) {
  lifecycle_filter f;
  f.prefix = "logs/";
  EXPECT_TRUE(filter_matches(f, "logs/a", 0));
  EXPECT_FALSE(filter_matches(f, "log/a", 0));
  f.size_greater_than = 100;
  f.size_less_than = 200;
  EXPECT_FALSE(filter_matches(f, "logs/a", 100));  // strict bounds
  EXPECT_TRUE(filter_matches(f, "logs/a", 101));
  EXPECT_TRUE(filter_matches(f, "logs/a", 199));
  EXPECT_FALSE(filter_matches(f, "logs/a", 200));
  EXPECT_TRUE(filter_matches(lifecycle_filter{}, "", 0));
}

TEST(lifecycle, expiration_days_round_to_midnight) {
  lifecycle_rule r;
  r.expiration_days = 1;
  uint64_t written = 10 * kDay + 3600'000;  // day 10, 01:00
  // Due at the midnight after written + 1 day: start of day 12.
  EXPECT_FALSE(object_expired(r, written, 11 * kDay + 3600'000));
  EXPECT_FALSE(object_expired(r, written, 12 * kDay - 1));
  EXPECT_TRUE(object_expired(r, written, 12 * kDay));
  // Written exactly at midnight: due exactly a day later.
  EXPECT_TRUE(object_expired(r, 10 * kDay, 11 * kDay));
  r.enabled = false;
  EXPECT_FALSE(object_expired(r, written, 100 * kDay));
}

TEST(lifecycle, expiration_date_and_no_action) {
  lifecycle_rule r;
  r.expiration_date_msec = 20 * kDay;
  EXPECT_FALSE(object_expired(r, 0, 20 * kDay - 1));
  EXPECT_TRUE(object_expired(r, 0, 20 * kDay));
  EXPECT_TRUE(object_expired(r, 25 * kDay, 26 * kDay));  // also objects written after it
  lifecycle_rule none;
  EXPECT_FALSE(object_expired(none, 0, 1000 * kDay));
  EXPECT_FALSE(upload_abort_due(none, 0, 1000 * kDay));
}

TEST(lifecycle, abort_incomplete_upload) {
  lifecycle_rule r;
  r.abort_incomplete_upload_days = 2;
  EXPECT_FALSE(upload_abort_due(r, 5 * kDay, 7 * kDay - 1));
  EXPECT_TRUE(upload_abort_due(r, 5 * kDay, 7 * kDay));
}

TEST(lifecycle, json_round_trip) {
  lifecycle_config c;
  lifecycle_rule a;
  a.id = "logs";
  a.filter.prefix = "logs/";
  a.filter.size_greater_than = 10;
  a.expiration_days = 30;
  a.abort_incomplete_upload_days = 7;
  lifecycle_rule b;
  b.enabled = false;
  b.expiration_date_msec = 19000 * kDay;
  c.rules = {a, b};
  auto back = lifecycle_from_json(lifecycle_to_json(c));
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(*back, c);
  EXPECT_FALSE(lifecycle_from_json("{\"rules\":[{}]}").has_value());
}

// ------------------------------------------------------------------ over a store

class bucket_config_store_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("garage-bcfg-" + random_hex(6));
    cfg_ = default_config(dir_.string());
    cfg_.block_gc_delay_secs = 0;
    cfg_.lifecycle_interval_secs = 86400;
    open();
    auto b = create_bucket(*s_, "cfg-bucket", std::nullopt);
    ASSERT_TRUE(b.has_value());
    bucket_ = b->id;
  }
  void TearDown() override {
    s_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    s_.reset();
    auto s = store::open(cfg_);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    s_ = std::move(*s);
  }
  static object_meta meta(size_t size) {
    object_meta m;
    m.size = size;
    m.etag = "e";
    return m;
  }
  void put(const std::string& key, size_t size) {
    auto v = put_inline(*s_, bucket_, key, meta(size), std::string(size, 'x'));
    ASSERT_TRUE(v.has_value()) << v.error().to_string();
  }
  // A block-backed object (one block of `size` bytes of `fill`).
  void put_block(const std::string& key, size_t size, char fill) {
    auto vid = begin_upload(*s_, bucket_, key, false);
    ASSERT_TRUE(vid.has_value());
    std::string data(size, fill);
    auto id = blake2b_256(data);
    ASSERT_TRUE(s_->blocks().put(id, data).has_value());
    ASSERT_TRUE(add_block(*s_, *vid, bucket_, key, {0, 0, 0}, {id, size}).has_value());
    ASSERT_TRUE(complete_upload(*s_, bucket_, key, *vid, meta(size)));
  }
  bool exists(const std::string& key) {
    auto o = get_object(*s_, bucket_, key);
    return o && *o && (*o)->current();
  }

  std::filesystem::path dir_;
  config cfg_;
  std::unique_ptr<store> s_;
  std::string bucket_;
};

TEST_F(bucket_config_store_test, documents_set_get_delete) {
  auto d = get_bucket_document(*s_, bucket_, bucket_document::cors);
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->empty());
  ASSERT_TRUE(set_bucket_document(*s_, bucket_, bucket_document::cors, "{\"rules\":[]}"));
  ASSERT_TRUE(set_bucket_document(*s_, bucket_, bucket_document::website, "{\"w\":1}"));
  EXPECT_EQ(*get_bucket_document(*s_, bucket_, bucket_document::cors), "{\"rules\":[]}");
  EXPECT_EQ(*get_bucket_document(*s_, bucket_, bucket_document::website), "{\"w\":1}");
  EXPECT_TRUE(get_bucket_document(*s_, bucket_, bucket_document::lifecycle)->empty());
  ASSERT_TRUE(set_bucket_document(*s_, bucket_, bucket_document::cors, ""));
  EXPECT_TRUE(get_bucket_document(*s_, bucket_, bucket_document::cors)->empty());
  auto missing = set_bucket_document(*s_, "nope", bucket_document::cors, "x");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, errc::not_found);
}

TEST_F(bucket_config_store_test, quotas_max_objects) {
  EXPECT_TRUE(check_quotas(*s_, bucket_, "a", 1 << 30));  // no quota: anything goes
  ASSERT_TRUE(set_bucket_quotas(*s_, bucket_, {std::nullopt, 2}));
  put("a", 10);
  put("b", 10);
  auto r = check_quotas(*s_, bucket_, "c", 10);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::permission_denied);
  EXPECT_NE(r.error().message.find("Object quota is reached"), std::string::npos);
  // Overwriting an existing object adds no object.
  EXPECT_TRUE(check_quotas(*s_, bucket_, "a", 1000));
  ASSERT_TRUE(delete_object(*s_, bucket_, "b"));
  EXPECT_TRUE(check_quotas(*s_, bucket_, "c", 10));
}

TEST_F(bucket_config_store_test, quotas_max_size) {
  ASSERT_TRUE(set_bucket_quotas(*s_, bucket_, {100, std::nullopt}));
  put("a", 60);
  auto r = check_quotas(*s_, bucket_, "b", 41);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("Bucket size quota is reached"), std::string::npos);
  EXPECT_TRUE(check_quotas(*s_, bucket_, "b", 40));
  EXPECT_TRUE(check_quotas(*s_, bucket_, "a", 100));  // replaces its own 60 bytes
  EXPECT_FALSE(check_quotas(*s_, bucket_, "a", 101).has_value());
  EXPECT_TRUE(check_size_quota_not_reached(*s_, bucket_));
  put("b", 40);
  EXPECT_FALSE(check_size_quota_not_reached(*s_, bucket_).has_value());
  // Lifting the quota.
  ASSERT_TRUE(set_bucket_quotas(*s_, bucket_, {}));
  EXPECT_TRUE(check_size_quota_not_reached(*s_, bucket_));
  EXPECT_EQ(get_bucket(*s_, bucket_)->quotas.value, bucket_quotas{});
}

TEST_F(bucket_config_store_test, lifecycle_worker_expires_and_aborts) {
  put("logs/old", 10);
  put("logs/big", 5000);
  put_block("logs/blocks", 2000, 'q');
  put("keep/me", 10);
  auto up = begin_upload(*s_, bucket_, "logs/upload", true);
  ASSERT_TRUE(up.has_value());
  auto other_up = begin_upload(*s_, bucket_, "keep/upload", true);
  ASSERT_TRUE(other_up.has_value());

  lifecycle_config c;
  lifecycle_rule disabled;  // would select everything, but is disabled
  disabled.enabled = false;
  disabled.expiration_days = 1;
  lifecycle_rule r;
  r.filter.prefix = "logs/";
  r.filter.size_less_than = 3000;  // logs/big (5000) is not selected
  r.expiration_days = 1;
  r.abort_incomplete_upload_days = 1;
  c.rules = {disabled, r};
  ASSERT_TRUE(set_bucket_document(*s_, bucket_, bucket_document::lifecycle, lifecycle_to_json(c)));

  // Today: nothing is a day old yet.
  auto now = now_msec();
  auto stats = run_lifecycle(*s_, now);
  ASSERT_TRUE(stats.has_value()) << stats.error().to_string();
  EXPECT_EQ(stats->buckets, 1u);
  EXPECT_EQ(stats->expired, 0u);
  EXPECT_TRUE(exists("logs/old"));

  // Two days later.
  stats = run_lifecycle(*s_, now + 2 * kDay);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->expired, 2u);  // logs/old, logs/blocks
  EXPECT_EQ(stats->aborted, 1u);  // logs/upload
  EXPECT_FALSE(exists("logs/old"));
  EXPECT_FALSE(exists("logs/blocks"));
  EXPECT_TRUE(exists("logs/big"));
  EXPECT_TRUE(exists("keep/me"));
  EXPECT_FALSE(get_upload(*s_, bucket_, "logs/upload", *up).has_value());
  EXPECT_TRUE(get_upload(*s_, bucket_, "keep/upload", *other_up).has_value());
  auto counts = get_counts(*s_, bucket_);
  EXPECT_EQ(counts->objects, 2);
  EXPECT_EQ(counts->bytes, 5010);

  // The block of logs/blocks is released and collected.
  auto summary = s_->maintenance(now_msec() + 1000);
  ASSERT_TRUE(summary.has_value());
  EXPECT_NE(summary->find("deleted 1 blocks"), std::string::npos) << *summary;

  // Same period again: the bucket is not processed twice, even after a reopen.
  put("logs/new", 10);
  open();
  stats = run_lifecycle(*s_, now + 2 * kDay + 1);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->buckets, 0u);
  EXPECT_TRUE(exists("logs/new"));
}

TEST_F(bucket_config_store_test, lifecycle_clock_offset) {
  cfg_.lifecycle_clock_offset_secs = 3 * 86400;
  open();
  put("tmp/x", 10);
  lifecycle_config c;
  lifecycle_rule r;
  r.filter.prefix = "tmp/";
  r.expiration_days = 2;
  c.rules = {r};
  ASSERT_TRUE(set_bucket_document(*s_, bucket_, bucket_document::lifecycle, lifecycle_to_json(c)));
  auto stats = run_lifecycle(*s_, now_msec());
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->expired, 1u);
  EXPECT_FALSE(exists("tmp/x"));
}

}  // namespace
}  // namespace garage::model
