// block_file: the byte format of one stored block file. Pure, no I/O.
//
// A block file is a 2-byte envelope followed by the payload:
//
//   byte 0   format version, currently 1
//   byte 1   codec: 0 = plain (payload is the block), 1 = zstd (payload is
//            one zstd frame whose content size is recorded in the frame)
//   byte 2.. payload
//
// The block id (BLAKE2b-256 of the plain data) is the integrity check: the
// envelope carries no checksum of its own. A block is stored compressed only
// when the zstd frame is strictly smaller than the plain data.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"

namespace garage::block {

inline constexpr uint8_t block_file_version = 1;

enum class block_codec : uint8_t { plain = 0, zstd = 1 };

// Builds the file bytes for `data`. level 0 never compresses; otherwise zstd at
// `level` is tried and kept only if it saves space. Thread-safe.
std::string encode_block_file(std::string_view data, int level);

// The codec recorded in a file's envelope; corrupted if the envelope is bad.
result<block_codec> block_file_codec(std::string_view file);

// Returns the plain block data, or corrupted when the envelope is unknown or
// the zstd frame does not decode. Does not check the hash. Thread-safe.
result<std::string> decode_block_file(std::string_view file);

// ---- piece by piece (blocks that stream: block_net) ----
// One object per block, one thread at a time.

// Builds a block file from plain data given in pieces, `size` bytes in all
// (recorded in the zstd frame, so decode_block_file reads it). The codec is
// chosen from the first piece: zstd when that piece alone compresses (level
// > 0), else plain; so a block whose start compresses and rest does not may
// be stored as a frame slightly larger than its data (it decodes all the
// same). invalid_argument when the pieces do not add up to `size`.
class block_file_writer {
 public:
  block_file_writer(int level, uint64_t size);
  ~block_file_writer();
  block_file_writer(const block_file_writer&) = delete;
  block_file_writer& operator=(const block_file_writer&) = delete;
  // The file bytes produced for `data` (possibly none yet).
  result<std::string> update(std::string_view data);
  // The last file bytes.
  result<std::string> finish();

 private:
  struct rep;
  std::unique_ptr<rep> rep_;
};

// Decodes a block file given in pieces, handing the plain data to `out` in
// pieces of at most 64 KiB. corrupted as decode_block_file; the sink's error
// is returned as is.
class block_file_reader {
 public:
  using sink = std::function<result<void>(std::string_view)>;
  block_file_reader();
  ~block_file_reader();
  block_file_reader(const block_file_reader&) = delete;
  block_file_reader& operator=(const block_file_reader&) = delete;
  result<void> update(std::string_view file_bytes, const sink& out);
  // corrupted if the file ended early.
  result<void> finish();

 private:
  struct rep;
  std::unique_ptr<rep> rep_;
};

}  // namespace garage::block
