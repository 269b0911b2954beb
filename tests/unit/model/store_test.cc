// The model over a real store in a temporary directory: the flows the S3 and
// admin APIs drive, and what the hooks must keep in step (block reference
// counts, bucket counters, version deletion).
#include "model/store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "model/bucket_ops.h"
#include "model/key_ops.h"
#include "model/object_ops.h"
#include "util/clock.h"
#include "util/random.h"

namespace garage::model {
namespace {

class store_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("garage-model-" + random_hex(6));
    cfg_ = default_config(dir_.string());
    cfg_.block_gc_delay_secs = 10;
    cfg_.upload_timeout_secs = 100;
    reopen();
  }
  void TearDown() override {
    s_.reset();
    std::filesystem::remove_all(dir_);
  }
  void reopen() {
    s_.reset();
    auto s = store::open(cfg_);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    s_ = std::move(*s);
  }
  std::string make_bucket(const std::string& name) {
    auto b = create_bucket(*s_, name, std::nullopt);
    if (!b) {
      ADD_FAILURE() << b.error().to_string();
      return {};
    }
    return b->id;
  }
  // A block-backed object of `n` blocks of distinct content.
  std::vector<hash256> put_blocks(const std::string& bucket, const std::string& key, int n,
                                  char fill) {
    auto vid = begin_upload(*s_, bucket, key, false);
    EXPECT_TRUE(vid.has_value());
    std::vector<hash256> ids;
    for (int i = 0; i < n; ++i) {
      std::string data(1000, static_cast<char>(fill + i));
      auto id = blake2b_256(data);
      EXPECT_TRUE(s_->blocks().put(id, data).has_value());
      EXPECT_TRUE(
          add_block(*s_, *vid, bucket, key, {0, 0, uint64_t(i) * 1000}, {id, 1000}).has_value());
      ids.push_back(id);
    }
    object_meta meta{uint64_t(n) * 1000, "etag", {}};
    EXPECT_TRUE(complete_upload(*s_, bucket, key, *vid, meta).has_value());
    return ids;
  }
  uint64_t rc(const hash256& id) { return *s_->blocks().refcount(id); }

  std::filesystem::path dir_;
  config cfg_;
  std::unique_ptr<store> s_;
};

TEST_F(store_test, keys_and_permissions_are_kept_on_both_sides) {
  auto k = create_key(*s_, "alice");
  ASSERT_TRUE(k.has_value());
  auto b = create_bucket(*s_, "photos", k->id);
  ASSERT_TRUE(b.has_value());
  auto key = get_key(*s_, k->id);
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(key->permission_on(b->id).owner);
  ASSERT_TRUE(deny_key(*s_, b->id, k->id, {false, true, false}).has_value());
  key = get_key(*s_, k->id);
  EXPECT_TRUE(key->permission_on(b->id).read);
  EXPECT_FALSE(key->permission_on(b->id).write);
  auto bucket = get_bucket(*s_, b->id);
  EXPECT_FALSE(bucket->keys.get(k->id)->write);
  ASSERT_TRUE(delete_key(*s_, k->id).has_value());
  EXPECT_EQ(get_key(*s_, k->id).error().code, errc::not_found);
  bucket = get_bucket(*s_, b->id);
  EXPECT_FALSE(bucket->keys.get(k->id)->any());
  EXPECT_EQ(find_key(*s_, "alice").error().code, errc::not_found);
}

TEST_F(store_test, import_refuses_malformed_and_duplicate_ids) {
  std::string secret(64, 'a');
  EXPECT_EQ(import_key(*s_, "nope", secret, "x").error().code, errc::invalid_argument);
  EXPECT_EQ(import_key(*s_, "GK0123456789abcdef01234567", "short", "x").error().code,
            errc::invalid_argument);
  ASSERT_TRUE(import_key(*s_, "GK0123456789abcdef01234567", secret, "x").has_value());
  EXPECT_EQ(import_key(*s_, "GK0123456789abcdef01234567", secret, "x").error().code,
            errc::already_exists);
  EXPECT_EQ(find_key(*s_, "GK0123")->id, "GK0123456789abcdef01234567");
}

TEST_F(store_test, aliases_resolve_and_the_last_one_cannot_be_removed) {
  auto id = make_bucket("one");
  EXPECT_EQ(*resolve_alias(*s_, "one"), id);
  EXPECT_EQ(create_bucket(*s_, "one", std::nullopt).error().code, errc::already_exists);
  EXPECT_EQ(create_bucket(*s_, "Bad_Name", std::nullopt).error().code, errc::invalid_argument);
  ASSERT_TRUE(add_alias(*s_, id, "two").has_value());
  EXPECT_EQ(*resolve_alias(*s_, "two"), id);
  ASSERT_TRUE(remove_alias(*s_, id, "one").has_value());
  EXPECT_EQ(resolve_alias(*s_, "one").error().code, errc::not_found);
  EXPECT_EQ(remove_alias(*s_, id, "two").error().code, errc::conflict);
}

TEST_F(store_test, local_aliases_belong_to_one_key_and_hide_the_global_name) {
  auto alice = *create_key(*s_, "alice");
  auto bob = *create_key(*s_, "bob");
  auto global = make_bucket("photos");
  auto mine = create_bucket(*s_, "", std::nullopt)->id;
  auto theirs = create_bucket(*s_, "", std::nullopt)->id;
  ASSERT_TRUE(add_local_alias(*s_, mine, alice.id, "photos").has_value());
  ASSERT_TRUE(add_local_alias(*s_, theirs, bob.id, "photos").has_value());
  ASSERT_TRUE(add_local_alias(*s_, theirs, bob.id, "photos").has_value());  // idempotent
  EXPECT_EQ(add_local_alias(*s_, global, bob.id, "photos").error().code, errc::already_exists);
  EXPECT_EQ(add_local_alias(*s_, mine, alice.id, "No_Good").error().code, errc::invalid_argument);
  EXPECT_EQ(add_local_alias(*s_, mine, "GKnobody", "x1x").error().code, errc::not_found);
  alice = *get_key(*s_, alice.id);
  bob = *get_key(*s_, bob.id);
  EXPECT_EQ(*resolve_bucket_name(*s_, &alice, "photos"), mine);
  EXPECT_EQ(*resolve_bucket_name(*s_, &bob, "photos"), theirs);
  EXPECT_EQ(*resolve_bucket_name(*s_, nullptr, "photos"), global);
  EXPECT_EQ(resolve_bucket_name(*s_, &alice, "other").error().code, errc::not_found);
  // Both sides hold the alias.
  auto b = *get_bucket(*s_, mine);
  ASSERT_EQ(active_local_aliases(b).size(), 1u);
  EXPECT_EQ(active_local_aliases(b)[0], std::pair(alice.id, std::string("photos")));
  // The only alias of a bucket cannot go; once it has another, it can.
  EXPECT_EQ(remove_local_alias(*s_, mine, alice.id, "photos").error().code, errc::conflict);
  EXPECT_EQ(remove_local_alias(*s_, mine, bob.id, "photos").error().code, errc::not_found);
  ASSERT_TRUE(add_alias(*s_, mine, "alices-photos").has_value());
  ASSERT_TRUE(remove_local_alias(*s_, mine, alice.id, "photos").has_value());
  alice = *get_key(*s_, alice.id);
  EXPECT_EQ(*resolve_bucket_name(*s_, &alice, "photos"), global);
  EXPECT_TRUE(active_local_aliases(*get_bucket(*s_, mine)).empty());
  // A global alias is not the last one while a local alias remains.
  EXPECT_EQ(remove_alias(*s_, mine, "alices-photos").error().code, errc::conflict);
  ASSERT_TRUE(add_local_alias(*s_, mine, alice.id, "again").has_value());
  ASSERT_TRUE(remove_alias(*s_, mine, "alices-photos").has_value());
  // Deleting the bucket removes the key's side; deleting a key the bucket's.
  ASSERT_TRUE(delete_bucket(*s_, mine).has_value());
  EXPECT_FALSE(local_alias_target(*get_key(*s_, alice.id), "again"));
  ASSERT_TRUE(delete_key(*s_, bob.id).has_value());
  EXPECT_TRUE(active_local_aliases(*get_bucket(*s_, theirs)).empty());
}

TEST_F(store_test, inline_objects_count_and_delete) {
  auto b = make_bucket("bkt1");
  ASSERT_TRUE(put_inline(*s_, b, "a.txt", {5, "e", {}}, "hello").has_value());
  auto o = get_object(*s_, b, "a.txt");
  ASSERT_TRUE(o.has_value() && *o);
  EXPECT_EQ((*o)->current()->inline_data, "hello");
  auto c = get_counts(*s_, b);
  EXPECT_EQ(c->objects, 1);
  EXPECT_EQ(c->bytes, 5);
  EXPECT_EQ(delete_bucket(*s_, b).error().code, errc::conflict);
  EXPECT_TRUE(*delete_object(*s_, b, "a.txt"));
  EXPECT_FALSE(*delete_object(*s_, b, "a.txt"));  // already gone: not an error
  c = get_counts(*s_, b);
  EXPECT_EQ(c->objects, 0);
  EXPECT_EQ(c->bytes, 0);
  EXPECT_TRUE(list_objects(*s_, b, "", false, 10)->empty());
  ASSERT_TRUE(delete_bucket(*s_, b).has_value());
  EXPECT_EQ(resolve_alias(*s_, "bkt1").error().code, errc::not_found);
}

TEST_F(store_test, overwriting_releases_the_old_blocks_after_the_gc_delay) {
  auto b = make_bucket("bkt2");
  auto first = put_blocks(b, "big", 3, 'a');
  for (auto& id : first) EXPECT_EQ(rc(id), 1u);
  auto second = put_blocks(b, "big", 2, 'x');
  for (auto& id : first) EXPECT_EQ(rc(id), 0u);
  for (auto& id : second) EXPECT_EQ(rc(id), 1u);
  auto o = get_object(*s_, b, "big");
  ASSERT_EQ((*o)->versions.size(), 1u);
  auto v = get_version(*s_, (*o)->current()->id);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->blocks.size(), 2u);
  // Not before the delay; after it, the old blocks' files are gone.
  EXPECT_EQ(*s_->blocks().collect_garbage(now_msec()), 0u);
  auto summary = s_->maintenance(now_msec() + 11'000);
  ASSERT_TRUE(summary.has_value()) << summary.error().to_string();
  for (auto& id : first) EXPECT_FALSE(s_->blocks().exists(id));
  for (auto& id : second) EXPECT_TRUE(s_->blocks().exists(id));
  EXPECT_EQ(get_counts(*s_, b)->bytes, 2000);
}

TEST_F(store_test, an_aborted_upload_leaves_nothing_behind) {
  auto b = make_bucket("bkt3");
  ASSERT_TRUE(put_inline(*s_, b, "k", {3, "e", {}}, "old").has_value());
  auto vid = begin_upload(*s_, b, "k", false);
  std::string data(5000, 'z');
  auto id = blake2b_256(data);
  ASSERT_TRUE(s_->blocks().put(id, data).has_value());
  ASSERT_TRUE(add_block(*s_, *vid, b, "k", {0, 0, 0}, {id, 5000}).has_value());
  EXPECT_EQ(rc(id), 1u);
  EXPECT_EQ(get_counts(*s_, b)->uploads, 1);
  ASSERT_TRUE(abort_upload(*s_, b, "k", *vid).has_value());
  EXPECT_EQ(rc(id), 0u);
  EXPECT_EQ(get_counts(*s_, b)->uploads, 0);
  // Readers still see the previous version; completing now is refused.
  EXPECT_EQ((*get_object(*s_, b, "k"))->current()->inline_data, "old");
  EXPECT_EQ(complete_upload(*s_, b, "k", *vid, {5000, "e", {}}).error().code, errc::conflict);
  ASSERT_TRUE(s_->maintenance(now_msec() + 11'000).has_value());
  EXPECT_FALSE(s_->blocks().exists(id));
}

TEST_F(store_test, maintenance_aborts_uploads_older_than_the_timeout) {
  auto b = make_bucket("bkt4");
  auto vid = begin_upload(*s_, b, "slow", false);
  ASSERT_TRUE(vid.has_value());
  ASSERT_TRUE(s_->maintenance(now_msec()).has_value());
  EXPECT_EQ((*get_object(*s_, b, "slow"))->versions[0].state, version_state::uploading);
  auto summary = s_->maintenance(now_msec() + 101'000);
  ASSERT_TRUE(summary.has_value());
  EXPECT_NE(summary->find("aborted 1 stale"), std::string::npos) << *summary;
  EXPECT_EQ(complete_upload(*s_, b, "slow", *vid, {}).error().code, errc::conflict);
}

TEST_F(store_test, a_newer_version_supersedes_an_upload_in_flight) {
  auto b = make_bucket("bkt5");
  auto vid = begin_upload(*s_, b, "k", false);
  ASSERT_TRUE(put_inline(*s_, b, "k", {3, "e", {}}, "new").has_value());
  // The superseded upload completes without effect: last writer wins.
  ASSERT_TRUE(complete_upload(*s_, b, "k", *vid, {9, "x", {}}).has_value());
  EXPECT_EQ((*get_object(*s_, b, "k"))->current()->inline_data, "new");
}

TEST_F(store_test, listing_skips_deleted_objects_and_pages) {
  auto b = make_bucket("bkt6");
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(put_inline(*s_, b, "k" + std::to_string(100 + i), {1, "e", {}}, "x").has_value());
  }
  ASSERT_TRUE(*delete_object(*s_, b, "k105"));
  auto page = list_objects(*s_, b, "k103", true, 5);
  ASSERT_EQ(page->size(), 5u);
  EXPECT_EQ((*page)[0].key, "k104");
  EXPECT_EQ((*page)[1].key, "k106");
}

TEST_F(store_test, everything_survives_a_reopen) {
  auto k = create_key(*s_, "bob");
  auto b = create_bucket(*s_, "keep", k->id);
  auto ids = put_blocks(b->id, "obj", 2, 'q');
  auto node = s_->node_id();
  reopen();
  EXPECT_EQ(s_->node_id(), node);
  EXPECT_EQ(get_key(*s_, k->id)->secret, k->secret);
  EXPECT_EQ(*resolve_alias(*s_, "keep"), b->id);
  auto o = get_object(*s_, b->id, "obj");
  ASSERT_TRUE(o.has_value() && *o && (*o)->current());
  for (auto& id : ids) {
    EXPECT_EQ(rc(id), 1u);
    EXPECT_EQ(s_->blocks().get(id)->size(), 1000u);
  }
  EXPECT_EQ(get_counts(*s_, b->id)->objects, 1);
}

}  // namespace
}  // namespace garage::model
