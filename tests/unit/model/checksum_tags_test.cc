// Object checksums and tags in the model: entry formats (old ones still
// decode), tags merging last-writer-wins apart from the rest of a version,
// set_object_tags, and conditional writes checked in the commit transaction.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "model/bucket_ops.h"
#include "model/multipart_ops.h"
#include "model/object_ops.h"
#include "model/store.h"
#include "util/codec.h"
#include "util/random.h"

namespace garage::model {
namespace {

object_version complete_version(std::string id) {
  object_version v;
  v.id = std::move(id);
  v.timestamp = 10;
  v.state = version_state::complete;
  v.data = version_data::inline_bytes;
  v.meta.size = 3;
  v.meta.etag = "e";
  v.inline_data = "abc";
  return v;
}

TEST(object_checksum_tags, format_3_round_trips) {
  object o;
  o.bucket_id = "b";
  o.key = "k";
  auto v = complete_version("v");
  v.meta.checksum = object_checksum{checksum_algorithm::crc32c, true, 3, std::string(4, 'x')};
  v.meta.tags = {{"a", "1"}, {"b", ""}};
  v.meta.tags_timestamp = 77;
  o.versions.push_back(v);
  auto back = object::decode(o.encode());
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(*back, o);
  // No checksum at all round-trips too.
  o.versions[0].meta.checksum.reset();
  back = object::decode(o.encode());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, o);
}

TEST(object_checksum_tags, format_2_decodes_without_checksum_or_tags) {
  encoder e;
  e.u8(2);
  e.bytes("b");
  e.bytes("k");
  e.varint(1);
  e.bytes("v1");
  e.u64be(42);
  e.u8(static_cast<uint8_t>(version_state::complete));
  e.boolean(false);
  e.u8(static_cast<uint8_t>(version_data::inline_bytes));
  e.varint(3);
  e.bytes("etag");
  e.varint(0);
  e.bytes("");  // sse_c_key_md5
  e.bytes("abc");
  auto o = object::decode(e.take());
  ASSERT_TRUE(o.has_value()) << o.error().to_string();
  EXPECT_FALSE(o->versions[0].meta.checksum.has_value());
  EXPECT_TRUE(o->versions[0].meta.tags.empty());
  EXPECT_EQ(o->versions[0].inline_data, "abc");
}

TEST(object_checksum_tags, bad_checksum_algorithm_is_corruption) {
  object o;
  o.bucket_id = "b";
  o.key = "k";
  auto v = complete_version("v");
  v.meta.checksum = object_checksum{checksum_algorithm::sha256, false, 0, std::string(32, 'x')};
  o.versions.push_back(v);
  std::string bytes = o.encode();
  // The algorithm byte follows the (empty) SSE-C key MD5: find it by value.
  auto pos = bytes.find(static_cast<char>(checksum_algorithm::sha256), bytes.size() - 64);
  ASSERT_NE(pos, std::string::npos);
  bytes[pos] = 9;
  EXPECT_FALSE(object::decode(bytes).has_value());
}

TEST(object_checksum_tags, version_format_1_parts_decode_without_checksum) {
  encoder e;
  e.u8(1);
  e.bytes("vid");
  e.boolean(false);
  e.u64be(5);
  e.bytes("b");
  e.bytes("k");
  e.varint(0);  // blocks
  e.varint(1);  // parts
  e.u32be(1);
  e.u64be(9);
  e.bytes("etag1");
  e.varint(100);
  auto v = version::decode(e.take());
  ASSERT_TRUE(v.has_value()) << v.error().to_string();
  ASSERT_EQ(v->parts.size(), 1u);
  EXPECT_EQ(v->parts.begin()->second.etag, "etag1");
  EXPECT_TRUE(v->parts.begin()->second.checksum.empty());
  // And the current format keeps part checksums.
  version w = *v;
  w.parts.begin()->second.checksum = "abcd";
  auto back = version::decode(w.encode());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, w);
}

object with(object_version v) {
  object o;
  o.bucket_id = "b";
  o.key = "k";
  o.versions.push_back(std::move(v));
  return o;
}

TEST(object_checksum_tags, tags_merge_last_writer_wins_and_commute) {
  auto base = complete_version("v");
  auto a = base;
  a.meta.tags = {{"x", "1"}};
  a.meta.tags_timestamp = 20;
  auto b = base;
  b.meta.tags = {{"a", "0"}};  // sorts lower but is newer
  b.meta.tags_timestamp = 30;
  object ab = with(a), ba = with(b);
  ab.merge(with(b));
  ba.merge(with(a));
  EXPECT_EQ(ab, ba);
  EXPECT_EQ(ab.versions[0].meta.tags, b.meta.tags);
  // Idempotent, and the rest of the version is untouched.
  object again = ab;
  again.merge(ab);
  EXPECT_EQ(again, ab);
  EXPECT_EQ(ab.versions[0].inline_data, "abc");
}

class conditional_write_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("garage-model-cw-" + random_hex(6));
    cfg_ = default_config(dir_.string());
    auto s = store::open(cfg_);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    s_ = std::move(*s);
    auto b = create_bucket(*s_, "cw-bucket", std::nullopt);
    ASSERT_TRUE(b.has_value());
    bucket_ = b->id;
  }
  void TearDown() override {
    s_.reset();
    std::filesystem::remove_all(dir_);
  }
  result<std::string> put(const std::string& key, const std::string& etag,
                          const write_precondition& pre) {
    object_meta m;
    m.size = 1;
    m.etag = etag;
    return put_inline(*s_, bucket_, key, m, "x", pre);
  }

  std::filesystem::path dir_;
  config cfg_;
  std::unique_ptr<store> s_;
  std::string bucket_;
};

TEST_F(conditional_write_test, if_none_match_and_if_match) {
  write_precondition create;
  create.if_none_match_any = true;
  ASSERT_TRUE(put("k", "e1", create).has_value());
  auto again = put("k", "e2", create);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, errc::already_exists);

  write_precondition match;
  match.if_match = "nope";
  auto wrong = put("k", "e3", match);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, errc::already_exists);
  match.if_match = "e1";
  EXPECT_TRUE(put("k", "e4", match).has_value());
  auto o = get_object(*s_, bucket_, "k");
  EXPECT_EQ((*o)->current()->meta.etag, "e4");

  auto missing = put("other", "e", match);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, errc::not_found);
  EXPECT_EQ(missing.error().message, kIfMatchNoObject);

  // A deleted object no longer exists for If-None-Match.
  ASSERT_TRUE(delete_object(*s_, bucket_, "k").has_value());
  EXPECT_TRUE(put("k", "e5", create).has_value());
}

TEST_F(conditional_write_test, concurrent_creates_at_most_one_wins) {
  write_precondition create;
  create.if_none_match_any = true;
  std::atomic<int> wins{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = put("race", "e" + std::to_string(i), create);
      if (r) {
        ++wins;
      } else if (r.error().code == errc::already_exists) {
        ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(refused.load(), 7);
}

TEST_F(conditional_write_test, block_upload_and_multipart_completion_check_too) {
  write_precondition create;
  create.if_none_match_any = true;
  ASSERT_TRUE(put("k", "e1", create).has_value());
  auto vid = begin_upload(*s_, bucket_, "k", false);
  ASSERT_TRUE(vid.has_value());
  object_meta m;
  m.etag = "big";
  auto done = complete_upload(*s_, bucket_, "k", *vid, m, create);
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code, errc::already_exists);

  auto up = begin_upload(*s_, bucket_, "k", true);
  ASSERT_TRUE(up.has_value());
  ASSERT_TRUE(add_part(*s_, *up, bucket_, "k", {1, 5}, {"p1", 0, "crc"}).has_value());
  auto mp = complete_multipart(*s_, bucket_, "k", *up, {{1, 5}}, m, create);
  ASSERT_FALSE(mp.has_value());
  EXPECT_EQ(mp.error().code, errc::already_exists);
  // The upload is still there; without the condition it completes and the
  // new version keeps the part's info under attempt 0.
  auto ok = complete_multipart(*s_, bucket_, "k", *up, {{1, 5}}, m);
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  auto ver = get_version(*s_, *ok);
  ASSERT_TRUE(ver.has_value());
  ASSERT_EQ(ver->parts.size(), 1u);
  EXPECT_EQ(ver->parts.begin()->first.attempt, 0u);
  EXPECT_EQ(ver->parts.begin()->second.checksum, "crc");
}

TEST_F(conditional_write_test, set_object_tags_replaces_tags_only) {
  ASSERT_FALSE(set_object_tags(*s_, bucket_, "none", {{"a", "b"}}).has_value());
  ASSERT_TRUE(put("k", "e1", {}).has_value());
  ASSERT_TRUE(set_object_tags(*s_, bucket_, "k", {{"a", "1"}}).has_value());
  ASSERT_TRUE(set_object_tags(*s_, bucket_, "k", {{"b", "2"}}).has_value());
  auto o = get_object(*s_, bucket_, "k");
  ASSERT_TRUE(o.has_value() && *o && (*o)->current());
  EXPECT_EQ((*o)->current()->meta.tags, (header_list{{"b", "2"}}));
  EXPECT_EQ((*o)->current()->meta.etag, "e1");
  EXPECT_EQ((*o)->current()->inline_data, "x");
  ASSERT_TRUE(set_object_tags(*s_, bucket_, "k", {}).has_value());
  o = get_object(*s_, bucket_, "k");
  EXPECT_TRUE((*o)->current()->meta.tags.empty());
}

}  // namespace
}  // namespace garage::model
