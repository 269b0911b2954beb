#include "block/block_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "block_test_util.h"

namespace garage::block {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::temp_dir;
using testing::write_file;

hash256 id_for(std::string_view s) { return blake2b_256(s); }

TEST(block_store, path_is_a_two_level_fan_out) {
  temp_dir dir;
  auto s = block_store::open(dir.path() + "/data/", false);
  ASSERT_TRUE(s) << s.error().to_string();
  hash256 id = id_for("a");
  std::string hex = id.hex();
  EXPECT_EQ((*s)->path_of(id),
            dir.path() + "/data/" + hex.substr(0, 2) + "/" + hex.substr(2, 2) + "/" + hex);
  ASSERT_TRUE((*s)->write(id, "bytes"));
  EXPECT_TRUE(fs::is_regular_file((*s)->path_of(id)));
  EXPECT_EQ(read_file((*s)->path_of(id)), "bytes");
}

TEST(block_store, write_read_replace_remove_and_counters) {
  temp_dir dir;
  auto s = std::move(*block_store::open(dir.path(), true));
  hash256 a = id_for("a"), b = id_for("b");
  EXPECT_EQ(s->read(a).error().code, errc::not_found);
  EXPECT_FALSE(s->exists(a));
  ASSERT_TRUE(s->write(a, "12345"));
  ASSERT_TRUE(s->write(b, "xy"));
  EXPECT_EQ(s->blocks(), 2u);
  EXPECT_EQ(s->bytes(), 7u);
  ASSERT_TRUE(s->write(a, "123"));  // replace
  EXPECT_EQ(*s->read(a), "123");
  EXPECT_EQ(s->blocks(), 2u);
  EXPECT_EQ(s->bytes(), 5u);
  EXPECT_TRUE(*s->remove(a));
  EXPECT_FALSE(*s->remove(a));
  EXPECT_FALSE(s->exists(a));
  EXPECT_EQ(s->blocks(), 1u);
  EXPECT_EQ(s->bytes(), 2u);
  EXPECT_TRUE(*s->move_aside(b));
  EXPECT_FALSE(*s->move_aside(b));
  EXPECT_EQ(s->blocks(), 0u);
  EXPECT_EQ(s->bytes(), 0u);
  size_t aside = 0;
  for (auto& e : fs::directory_iterator(s->corrupted_dir())) {
    EXPECT_EQ(e.path().filename().string().substr(0, 64), b.hex());
    EXPECT_EQ(read_file(e.path().string()), "xy");
    ++aside;
  }
  EXPECT_EQ(aside, 1u);
}

TEST(block_store, no_temp_file_is_left_after_writes) {
  temp_dir dir;
  auto s = std::move(*block_store::open(dir.path(), false));
  hash256 id = id_for("t");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s->write(id, std::string(i * 10, 'z')));
  size_t files = 0;
  for (auto& e : fs::directory_iterator(fs::path(s->path_of(id)).parent_path())) {
    EXPECT_EQ(e.path().filename().string(), id.hex());
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST(block_store, open_removes_stale_temp_files_and_counts_blocks) {
  temp_dir dir;
  hash256 a = id_for("a"), b = id_for("b");
  std::string stale_a, stale_b;
  {
    auto s = std::move(*block_store::open(dir.path(), false));
    ASSERT_TRUE(s->write(a, "aaaa"));
    ASSERT_TRUE(s->write(b, "bbbbbb"));
    stale_a = s->path_of(a) + ".tmp-0123456789abcdef";
    stale_b = s->path_of(b) + ".tmp-deadbeef";
    write_file(stale_a, "partial");
    write_file(stale_b, "partial");
    // Files that are not ours stay where they are, and are not counted.
    write_file(dir.path() + "/README", "operator notes");
    write_file(fs::path(s->path_of(a)).parent_path().string() + "/unrelated", "x");
    ASSERT_TRUE(s->move_aside(b));
    ASSERT_TRUE(s->write(b, "bbbbbb"));
  }
  auto s = std::move(*block_store::open(dir.path(), false));
  EXPECT_EQ(s->stale_temp_files_removed(), 2u);
  EXPECT_FALSE(fs::exists(stale_a));
  EXPECT_FALSE(fs::exists(stale_b));
  EXPECT_TRUE(fs::exists(dir.path() + "/README"));
  EXPECT_EQ(s->blocks(), 2u);
  EXPECT_EQ(s->bytes(), 10u);
  EXPECT_EQ(*s->read(a), "aaaa");
}

TEST(block_store, unusable_data_dir_is_an_io_error) {
  temp_dir dir;
  write_file(dir.path() + "/file", "x");
  auto s = block_store::open(dir.path() + "/file/sub", false);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, errc::io_error);
  EXPECT_EQ(block_store::open("", false).error().code, errc::invalid_argument);
}

}  // namespace
}  // namespace garage::block
