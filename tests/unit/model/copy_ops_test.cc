// Copies that share blocks: new references, no new bytes; the blocks live as
// long as either object; a deleted source refuses the copy; part extents.
#include "model/copy_ops.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "model/bucket_ops.h"
#include "model/multipart_ops.h"
#include "model/object_ops.h"
#include "model/store.h"
#include "util/random.h"

namespace garage::model {
namespace {

class copy_ops_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("garage-copy-" + random_hex(6));
    cfg_ = default_config(dir_.string());
    cfg_.block_gc_delay_secs = 10;
    auto s = store::open(cfg_);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    s_ = std::move(*s);
    auto b = create_bucket(*s_, "bkt", std::nullopt);
    ASSERT_TRUE(b.has_value());
    bucket_ = b->id;
  }
  void TearDown() override {
    s_.reset();
    std::filesystem::remove_all(dir_);
  }
  // An object of n 1000-byte blocks; returns its version id.
  std::string put_blocks(const std::string& key, int n) {
    auto vid = begin_upload(*s_, bucket_, key, false);
    EXPECT_TRUE(vid.has_value());
    for (int i = 0; i < n; ++i) {
      std::string data(1000, static_cast<char>('a' + i));
      auto id = blake2b_256(data);
      EXPECT_TRUE(s_->blocks().put(id, data).has_value());
      ids_.push_back(id);
      EXPECT_TRUE(
          add_block(*s_, *vid, bucket_, key, {0, 0, uint64_t(i) * 1000}, {id, 1000}).has_value());
    }
    object_meta meta;
    meta.size = uint64_t(n) * 1000;
    meta.etag = "e";
    EXPECT_TRUE(complete_upload(*s_, bucket_, key, *vid, meta).has_value());
    return *vid;
  }
  uint64_t rc(const hash256& id) { return *s_->blocks().refcount(id); }

  std::filesystem::path dir_;
  config cfg_;
  std::unique_ptr<store> s_;
  std::string bucket_;
  std::vector<hash256> ids_;
};

TEST_F(copy_ops_test, a_copy_adds_references_not_blocks) {
  auto src = put_blocks("src", 3);
  uint64_t files = s_->blocks().stats().blocks;
  auto ver = get_version(*s_, src);
  ASSERT_TRUE(ver.has_value());
  object_meta meta;
  meta.size = 3000;
  meta.etag = "e";
  auto copy = put_shared_blocks(*s_, bucket_, "dst", meta, *ver, src);
  ASSERT_TRUE(copy.has_value()) << copy.error().to_string();
  EXPECT_NE(*copy, src);
  EXPECT_EQ(s_->blocks().stats().blocks, files);
  for (const auto& id : ids_) EXPECT_EQ(rc(id), 2u);
  auto dst = get_object(*s_, bucket_, "dst");
  ASSERT_TRUE(dst.has_value() && *dst && (*dst)->current());
  EXPECT_EQ((*dst)->current()->meta.size, 3000u);
  auto dver = get_version(*s_, *copy);
  ASSERT_TRUE(dver.has_value());
  EXPECT_EQ(dver->blocks, ver->blocks);

  // Deleting the source keeps the blocks for the copy; deleting both frees them.
  ASSERT_TRUE(delete_object(*s_, bucket_, "src").has_value());
  for (const auto& id : ids_) EXPECT_EQ(rc(id), 1u);
  ASSERT_TRUE(delete_object(*s_, bucket_, "dst").has_value());
  for (const auto& id : ids_) EXPECT_EQ(rc(id), 0u);
}

TEST_F(copy_ops_test, a_deleted_source_is_not_copied) {
  auto src = put_blocks("src", 2);
  auto ver = get_version(*s_, src);
  ASSERT_TRUE(ver.has_value());
  ASSERT_TRUE(delete_object(*s_, bucket_, "src").has_value());
  object_meta meta;
  auto copy = put_shared_blocks(*s_, bucket_, "dst", meta, *ver, src);
  ASSERT_FALSE(copy.has_value());
  EXPECT_EQ(copy.error().code, errc::not_found);
  for (const auto& id : ids_) EXPECT_EQ(rc(id), 0u);
  auto dst = get_object(*s_, bucket_, "dst");
  ASSERT_TRUE(dst.has_value());
  EXPECT_FALSE(*dst && (*dst)->current());
}

TEST_F(copy_ops_test, shared_blocks_into_an_upload) {
  auto src = put_blocks("src", 2);
  auto ver = get_version(*s_, src);
  ASSERT_TRUE(ver.has_value());
  auto up = begin_upload(*s_, bucket_, "mp", true);
  ASSERT_TRUE(up.has_value());
  std::vector<std::pair<block_location, version_block>> blocks;
  for (const auto& [loc, b] : ver->blocks) blocks.push_back({{1, 77, loc.offset}, b});
  ASSERT_TRUE(add_shared_blocks(*s_, *up, bucket_, "mp", blocks, src).has_value());
  for (const auto& id : ids_) EXPECT_EQ(rc(id), 2u);
  // Aborting the upload releases its references only.
  ASSERT_TRUE(abort_upload(*s_, bucket_, "mp", *up).has_value());
  for (const auto& id : ids_) EXPECT_EQ(rc(id), 1u);
  EXPECT_EQ(add_shared_blocks(*s_, *up, bucket_, "mp", blocks, src).error().code, errc::conflict);
}

TEST(part_extents, from_parts_or_from_blocks) {
  version v;
  v.blocks[{1, 0, 0}] = {hash256{}, 10};
  v.blocks[{1, 0, 10}] = {hash256{}, 5};
  v.blocks[{3, 0, 0}] = {hash256{}, 7};
  auto from_blocks = part_extents(v);
  ASSERT_EQ(from_blocks.size(), 2u);
  EXPECT_EQ(from_blocks[0], (part_extent{1, 0, 15}));
  EXPECT_EQ(from_blocks[1], (part_extent{3, 15, 7}));
  // Recorded parts win, including an empty one that has no block.
  v.parts[{1, 0}] = part_info{"a", 15};
  v.parts[{3, 0}] = part_info{"b", 7};
  v.parts[{4, 0}] = part_info{"c", 0};
  auto from_parts = part_extents(v);
  ASSERT_EQ(from_parts.size(), 3u);
  EXPECT_EQ(from_parts[2], (part_extent{4, 22, 0}));
}

}  // namespace
}  // namespace garage::model
