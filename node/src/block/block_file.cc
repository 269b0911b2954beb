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

namespace garage::block {

namespace {
constexpr size_t piece_size = 64 * 1024;
}  // namespace

// ---- block_file_writer ----

struct block_file_writer::rep {
  int level = 0;
  uint64_t size = 0;
  uint64_t seen = 0;
  bool started = false;
  block_codec codec = block_codec::plain;
  std::unique_ptr<ZSTD_CCtx, cctx_deleter> cctx;
  std::string buf;

  // Compresses `in` with `mode`, appending the output to `out`.
  result<void> compress(ZSTD_inBuffer& in, ZSTD_EndDirective mode, std::string& out) {
    for (;;) {
      ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
      size_t rc = ZSTD_compressStream2(cctx.get(), &ob, &in, mode);
      if (ZSTD_isError(rc)) {
        return error(errc::internal, std::string("zstd: ") + ZSTD_getErrorName(rc));
      }
      out.append(buf.data(), ob.pos);
      bool input_done = in.pos == in.size;
      if (mode == ZSTD_e_end ? rc == 0 : (input_done && ob.pos < ob.size)) return ok();
    }
  }
};

block_file_writer::block_file_writer(int level, uint64_t size) : rep_(std::make_unique<rep>()) {
  rep_->level = level;
  rep_->size = size;
}

block_file_writer::~block_file_writer() = default;

result<std::string> block_file_writer::update(std::string_view data) {
  rep& r = *rep_;
  if (data.empty()) return std::string();
  if (r.seen + data.size() > r.size) {
    return error(errc::invalid_argument, "block data longer than its announced size");
  }
  std::string out;
  if (!r.started) {
    r.started = true;
    if (r.level > 0) {
      // Does the start of the block compress? One probe, then stream.
      std::string_view probe = data.substr(0, piece_size);
      std::string tmp(ZSTD_compressBound(probe.size()), '\0');
      size_t n = ZSTD_compress(tmp.data(), tmp.size(), probe.data(), probe.size(),
                               std::min(r.level, ZSTD_maxCLevel()));
      if (!ZSTD_isError(n) && n < probe.size()) {
        r.cctx.reset(ZSTD_createCCtx());
        if (r.cctx &&
            !ZSTD_isError(ZSTD_CCtx_setParameter(r.cctx.get(), ZSTD_c_compressionLevel,
                                                 std::min(r.level, ZSTD_maxCLevel()))) &&
            !ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(r.cctx.get(), r.size))) {
          r.codec = block_codec::zstd;
          r.buf.resize(ZSTD_CStreamOutSize());
        }
      }
    }
    out = envelope(r.codec, 0);
  }
  r.seen += data.size();
  if (r.codec == block_codec::plain) {
    out.append(data);
    return out;
  }
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  GARAGE_TRY(r.compress(in, ZSTD_e_continue, out));
  return out;
}

result<std::string> block_file_writer::finish() {
  rep& r = *rep_;
  if (r.seen != r.size) {
    return error(errc::invalid_argument, "block data of " + std::to_string(r.seen) +
                                             " bytes, announced " + std::to_string(r.size));
  }
  if (!r.started) {
    r.started = true;
    return envelope(block_codec::plain, 0);
  }
  std::string out;
  if (r.codec == block_codec::zstd) {
    ZSTD_inBuffer in{nullptr, 0, 0};
    GARAGE_TRY(r.compress(in, ZSTD_e_end, out));
  }
  return out;
}

// ---- block_file_reader ----

struct block_file_reader::rep {
  std::string env;
  bool have_env = false;
  block_codec codec = block_codec::plain;
  std::unique_ptr<ZSTD_DCtx, dctx_deleter> dctx;
  bool frame_done = false;
  std::string buf;
};

block_file_reader::block_file_reader() : rep_(std::make_unique<rep>()) {}
block_file_reader::~block_file_reader() = default;

result<void> block_file_reader::update(std::string_view bytes, const sink& out) {
  rep& r = *rep_;
  while (!r.have_env && !bytes.empty()) {
    r.env.push_back(bytes.front());
    bytes.remove_prefix(1);
    if (r.env.size() == envelope_size) {
      GARAGE_ASSIGN_OR_RETURN(r.codec, block_file_codec(r.env));
      r.have_env = true;
      if (r.codec == block_codec::zstd) {
        r.dctx.reset(ZSTD_createDCtx());
        if (!r.dctx) return error(errc::internal, "ZSTD_createDCtx failed");
        r.buf.resize(piece_size);
      }
    }
  }
  if (bytes.empty()) return ok();
  if (r.codec == block_codec::plain) {
    while (!bytes.empty()) {
      size_t n = std::min(piece_size, bytes.size());
      GARAGE_TRY(out(bytes.substr(0, n)));
      bytes.remove_prefix(n);
    }
    return ok();
  }
  if (r.frame_done) return corrupt("trailing bytes after the zstd frame");
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  for (;;) {
    ZSTD_outBuffer ob{r.buf.data(), r.buf.size(), 0};
    size_t rc = ZSTD_decompressStream(r.dctx.get(), &ob, &in);
    if (ZSTD_isError(rc)) return corrupt(std::string("zstd: ") + ZSTD_getErrorName(rc));
    if (ob.pos > 0) GARAGE_TRY(out(std::string_view(r.buf.data(), ob.pos)));
    if (rc == 0) {
      r.frame_done = true;
      if (in.pos < in.size) return corrupt("trailing bytes after the zstd frame");
      return ok();
    }
    // More output may be pending while the output buffer came back full.
    if (in.pos == in.size && ob.pos < ob.size) return ok();
  }
}

result<void> block_file_reader::finish() {
  rep& r = *rep_;
  if (!r.have_env) return corrupt("shorter than its envelope");
  if (r.codec == block_codec::zstd && !r.frame_done) return corrupt("truncated zstd frame");
  return ok();
}

}  // namespace garage::block
