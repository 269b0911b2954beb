// Blocks in pieces: the streaming block file codec, and block_manager's
// put_stream (written as it arrives, visible only once verified) and
// get_stream (read and decompressed as it goes, verified at the end).
#include <gtest/gtest.h>

#include <filesystem>

#include "block/block_file.h"
#include "block/block_manager.h"
#include "block_test_util.h"

namespace garage::block {
namespace {

namespace fs = std::filesystem;
using testing::compressible_data;
using testing::random_data;
using testing::read_file;
using testing::temp_dir;
using testing::write_file;

// Feeds `data` to a writer in pieces of `step` bytes.
std::string encode_in_pieces(std::string_view data, int level, size_t step) {
  block_file_writer w(level, data.size());
  std::string out;
  for (size_t off = 0; off < data.size(); off += step) {
    auto r = w.update(data.substr(off, step));
    EXPECT_TRUE(r) << r.error().to_string();
    if (r) out += *r;
  }
  auto tail = w.finish();
  EXPECT_TRUE(tail) << tail.error().to_string();
  if (tail) out += *tail;
  return out;
}

result<std::string> decode_in_pieces(std::string_view file, size_t step) {
  block_file_reader r;
  std::string out;
  for (size_t off = 0; off < file.size(); off += step) {
    GARAGE_TRY(r.update(file.substr(off, step), [&](std::string_view p) -> result<void> {
      EXPECT_LE(p.size(), 64u * 1024);
      out.append(p);
      return ok();
    }));
  }
  GARAGE_TRY(r.finish());
  return out;
}

TEST(block_file_stream, pieces_round_trip_and_read_like_whole_files) {
  for (const std::string& data :
       {compressible_data(1 << 20), random_data(1 << 20, 7), std::string(), std::string("x"),
        compressible_data(200'000) + random_data(300'000, 8)}) {
    for (size_t step : {size_t{1000}, size_t{65536}, size_t{1} << 20}) {
      std::string file = encode_in_pieces(data, 1, step);
      auto whole = decode_block_file(file);
      ASSERT_TRUE(whole) << whole.error().to_string();
      EXPECT_TRUE(*whole == data);
      for (size_t rstep : {size_t{7}, size_t{4096}, size_t{1} << 21}) {
        auto back = decode_in_pieces(file, rstep);
        ASSERT_TRUE(back) << back.error().to_string();
        EXPECT_TRUE(*back == data);
      }
      // A whole encoded file reads in pieces too.
      auto back = decode_in_pieces(encode_block_file(data, 1), 5000);
      ASSERT_TRUE(back);
      EXPECT_TRUE(*back == data);
    }
  }
  auto compressed = encode_in_pieces(compressible_data(1 << 20), 1, 65536);
  EXPECT_EQ(block_file_codec(compressed).value(), block_codec::zstd);
  EXPECT_LT(compressed.size(), 200'000u);
  auto plain = encode_in_pieces(random_data(1 << 20, 9), 1, 65536);
  EXPECT_EQ(block_file_codec(plain).value(), block_codec::plain);
  EXPECT_EQ(block_file_codec(encode_in_pieces(compressible_data(5000), 0, 100)).value(),
            block_codec::plain);
}

TEST(block_file_stream, sizes_that_do_not_add_up_and_bad_files_are_errors) {
  block_file_writer w(1, 10);
  ASSERT_TRUE(w.update("12345"));
  EXPECT_FALSE(w.finish());
  block_file_writer over(1, 3);
  EXPECT_FALSE(over.update("12345"));
  std::string file = encode_in_pieces(compressible_data(100'000), 1, 4096);
  auto truncated = decode_in_pieces(std::string_view(file).substr(0, file.size() - 10), 1000);
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code, errc::corrupted);
  auto trailing = decode_in_pieces(file + "zz", 1000);
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().code, errc::corrupted);
  EXPECT_FALSE(decode_in_pieces("\x01", 1));
  EXPECT_FALSE(decode_in_pieces("\x09\x00xyz", 1));
  std::string flipped = file;
  flipped[flipped.size() / 2] ^= 0x55;
  auto bad = decode_in_pieces(flipped, 1000);
  if (bad) {  // else: the frame did not decode
    EXPECT_NE(*bad, compressible_data(100'000));
  }
}

class block_stream_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = db::database::open(dir_.path() + "/meta", db::options{});
    ASSERT_TRUE(d) << d.error().to_string();
    db_ = std::move(*d);
    block_config cfg;
    cfg.data_dir = dir_.path() + "/data";
    auto m = block_manager::open(cfg, *db_);
    ASSERT_TRUE(m) << m.error().to_string();
    mgr_ = std::move(*m);
  }
  std::string path_of(const hash256& id) const {
    std::string hex = id.hex();
    return dir_.path() + "/data/" + hex.substr(0, 2) + "/" + hex.substr(2, 2) + "/" + hex;
  }
  size_t files_under(const std::string& sub) const {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir_.path() + "/data/" + sub, ec);
         !ec && it != fs::recursive_directory_iterator(); ++it)
      n += it->is_regular_file();
    return n;
  }
  // put_stream from `data` in pieces of `step`.
  result<void> put_pieces(const hash256& id, std::string_view data, size_t step,
                          uint64_t size = UINT64_MAX) {
    size_t off = 0;
    return mgr_->put_stream(id, size == UINT64_MAX ? data.size() : size,
                            [&]() -> result<std::optional<std::string>> {
                              if (off >= data.size()) return std::optional<std::string>();
                              std::string p(data.substr(off, step));
                              off += p.size();
                              return std::optional<std::string>(std::move(p));
                            });
  }
  result<std::string> get_pieces(const hash256& id) {
    std::string out;
    GARAGE_TRY(mgr_->get_stream(id, [&](std::string_view p) -> result<void> {
      EXPECT_LE(p.size(), 64u * 1024);
      out.append(p);
      return ok();
    }));
    return out;
  }

  temp_dir dir_;
  std::unique_ptr<db::database> db_;
  std::unique_ptr<block_manager> mgr_;
};

TEST_F(block_stream_test, put_stream_and_get_stream_round_trip) {
  for (const std::string& data :
       {compressible_data(1 << 20), random_data(1 << 20, 3), std::string(), std::string("tiny")}) {
    hash256 id = blake2b_256(data);
    ASSERT_TRUE(put_pieces(id, data, 10'000));
    auto whole = mgr_->get(id);
    ASSERT_TRUE(whole) << whole.error().to_string();
    EXPECT_TRUE(*whole == data);
    auto back = get_pieces(id);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_TRUE(*back == data);
  }
  // Compressible data is stored compressed, streamed or not.
  std::string text = compressible_data(1 << 20);
  EXPECT_LT(read_file(path_of(blake2b_256(text))).size(), 300'000u);
  // Blocks put whole stream out too.
  std::string other = random_data(300'000, 4);
  ASSERT_TRUE(mgr_->put(blake2b_256(other), other));
  auto back = get_pieces(blake2b_256(other));
  ASSERT_TRUE(back);
  EXPECT_TRUE(*back == other);
  EXPECT_EQ(files_under(""), 5u) << "no temp file left";
}

TEST_F(block_stream_test, data_that_does_not_hash_to_the_id_is_never_stored) {
  std::string data = random_data(500'000, 5);
  hash256 id = blake2b_256(data);
  std::string bad = data;
  bad[400'000] ^= 1;
  auto r = put_pieces(id, bad, 65536);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_FALSE(mgr_->exists(id));
  EXPECT_EQ(files_under(""), 0u) << "the temp file is gone";
  // A size that is not the data's.
  auto short_size = put_pieces(id, data, 65536, data.size() - 1);
  ASSERT_FALSE(short_size);
  EXPECT_EQ(short_size.error().code, errc::invalid_argument);
  auto long_size = put_pieces(id, data, 65536, data.size() + 1);
  ASSERT_FALSE(long_size);
  EXPECT_FALSE(mgr_->exists(id));
  // A source that fails midway: its error, nothing stored.
  int n = 0;
  auto broken = mgr_->put_stream(id, data.size(), [&]() -> result<std::optional<std::string>> {
    if (++n > 2) return error(errc::unavailable, "peer gone");
    return std::optional<std::string>(data.substr((n - 1) * 1000, 1000));
  });
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, errc::unavailable);
  EXPECT_FALSE(mgr_->exists(id));
  EXPECT_EQ(files_under(""), 0u);
  ASSERT_TRUE(put_pieces(id, data, 65536));
  EXPECT_TRUE(mgr_->exists(id));
}

TEST_F(block_stream_test, put_stream_keeps_a_valid_copy_and_replaces_a_corrupt_one) {
  std::string data = compressible_data(300'000);
  hash256 id = blake2b_256(data);
  ASSERT_TRUE(mgr_->put(id, data));
  // A valid copy: the source is not even read.
  bool read = false;
  ASSERT_TRUE(mgr_->put_stream(id, data.size(), [&]() -> result<std::optional<std::string>> {
    read = true;
    return std::optional<std::string>();
  }));
  EXPECT_FALSE(read);
  std::string bytes = read_file(path_of(id));
  bytes[bytes.size() / 2] ^= 0x5a;
  write_file(path_of(id), bytes);
  ASSERT_TRUE(put_pieces(id, data, 4096));
  auto back = mgr_->get(id);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_TRUE(*back == data);
}

TEST_F(block_stream_test, get_stream_of_a_corrupt_file_fails_and_moves_it_aside) {
  std::string data = random_data(300'000, 6);
  hash256 id = blake2b_256(data);
  ASSERT_TRUE(mgr_->put(id, data));
  std::string bytes = read_file(path_of(id));
  bytes[bytes.size() - 5] ^= 0x5a;  // near the end: most pieces go out first
  write_file(path_of(id), bytes);
  auto r = get_pieces(id);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::corrupted);
  EXPECT_FALSE(mgr_->exists(id));
  EXPECT_EQ(files_under("corrupted"), 1u);
  EXPECT_EQ(mgr_->stats().corrupted_reads, 1u);
  auto missing = get_pieces(id);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
  // A sink error stops the read and is returned as is.
  ASSERT_TRUE(mgr_->put(id, data));
  auto stopped = mgr_->get_stream(
      id, [](std::string_view) -> result<void> { return error(errc::unavailable, "caller gone"); });
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code, errc::unavailable);
  EXPECT_TRUE(mgr_->exists(id)) << "a sink error is not corruption";
}

}  // namespace
}  // namespace garage::block
