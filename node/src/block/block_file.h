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

}  // namespace garage::block
