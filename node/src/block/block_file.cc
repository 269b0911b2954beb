#include "block/block_file.h"

#include <zstd.h>

#include <algorithm>
#include <memory>

namespace garage::block {

namespace {

constexpr size_t envelope_size = 2;

struct cctx_deleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct dctx_deleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// One context per thread: creating one costs more than compressing a small block.
ZSTD_CCtx* thread_cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, cctx_deleter> c(ZSTD_createCCtx());
  return c.get();
}
ZSTD_DCtx* thread_dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, dctx_deleter> d(ZSTD_createDCtx());
  return d.get();
}

std::string envelope(block_codec codec, size_t payload_size) {
  std::string out;
  out.reserve(envelope_size + payload_size);
  out.push_back(static_cast<char>(block_file_version));
  out.push_back(static_cast<char>(codec));
  return out;
}

error corrupt(std::string what) { return error(errc::corrupted, "block file: " + std::move(what)); }

}  // namespace

std::string encode_block_file(std::string_view data, int level) {
  if (level > 0 && !data.empty()) {
    size_t bound = ZSTD_compressBound(data.size());
    std::string out = envelope(block_codec::zstd, bound);
    out.resize(envelope_size + bound);
    ZSTD_CCtx* c = thread_cctx();
    size_t n = c ? ZSTD_compressCCtx(c, out.data() + envelope_size, bound, data.data(), data.size(),
                                     std::min(level, ZSTD_maxCLevel()))
                 : ZSTD_compress(out.data() + envelope_size, bound, data.data(), data.size(),
                                 std::min(level, ZSTD_maxCLevel()));
    if (!ZSTD_isError(n) && n < data.size()) {
      out.resize(envelope_size + n);
      return out;
    }
  }
  std::string out = envelope(block_codec::plain, data.size());
  out.append(data);
  return out;
}

result<block_codec> block_file_codec(std::string_view file) {
  if (file.size() < envelope_size) return corrupt("shorter than its envelope");
  if (static_cast<uint8_t>(file[0]) != block_file_version)
    return corrupt("unknown format version " + std::to_string(static_cast<uint8_t>(file[0])));
  auto codec = static_cast<uint8_t>(file[1]);
  if (codec > static_cast<uint8_t>(block_codec::zstd))
    return corrupt("unknown codec " + std::to_string(codec));
  return static_cast<block_codec>(codec);
}

result<std::string> decode_block_file(std::string_view file) {
  GARAGE_ASSIGN_OR_RETURN(block_codec codec, block_file_codec(file));
  std::string_view payload = file.substr(envelope_size);
  if (codec == block_codec::plain) return std::string(payload);

  unsigned long long size = ZSTD_getFrameContentSize(payload.data(), payload.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
    return corrupt("bad zstd frame header");
  // Decode by streaming into a buffer that grows with the output, so a
  // damaged header announcing a huge size cannot make us allocate it up front.
  ZSTD_DCtx* d = thread_dctx();
  if (!d) return error(errc::internal, "ZSTD_createDCtx failed");
  ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
  std::string out;
  out.resize(static_cast<size_t>(std::min<unsigned long long>(size, 1u << 20)));
  ZSTD_inBuffer in{payload.data(), payload.size(), 0};
  size_t produced = 0;
  for (;;) {
    ZSTD_outBuffer ob{out.data(), out.size(), produced};
    size_t rc = ZSTD_decompressStream(d, &ob, &in);
    if (ZSTD_isError(rc)) return corrupt(std::string("zstd: ") + ZSTD_getErrorName(rc));
    produced = ob.pos;
    if (produced > size) return corrupt("zstd frame longer than its header says");
    if (rc == 0) break;  // frame complete
    if (ob.pos < ob.size && in.pos == in.size) return corrupt("truncated zstd frame");
    if (ob.pos == ob.size) {
      if (out.size() >= size) {
        // Full at the announced size, yet the frame is not finished.
        return corrupt("zstd frame longer than its header says");
      }
      out.resize(static_cast<size_t>(std::min<unsigned long long>(size, out.size() * 2)));
    }
  }
  if (in.pos != in.size) return corrupt("trailing bytes after the zstd frame");
  if (produced != size) return corrupt("zstd frame shorter than its header says");
  out.resize(produced);
  return out;
}

}  // namespace garage::block
