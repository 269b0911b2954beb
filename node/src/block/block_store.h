// block_store: the block files of one data directory. No reference counts,
// no hashing: block_manager puts meaning on top.
//
// Layout: <data_dir>/<hex[0:2]>/<hex[2:4]>/<hex> where hex is the 64-digit
// lower-case block id. A write goes to <hex>.tmp-<random> in the same
// directory and is renamed over <hex>; a crash leaves only such temp files,
// which open() deletes. Files moved aside as corrupted go to
// <data_dir>/corrupted/<hex>.<msec>-<random>, outside the fan-out.
//
// Thread-safety: every method may be called from any thread. Two writers (or a
// writer and a remover) of the same id must be serialised by the caller, or
// the block and byte counters may drift; the files themselves stay valid
// because rename and unlink are atomic.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "util/hash.h"
#include "util/result.h"

namespace garage::block {

class block_store {
 public:
  // Creates data_dir if absent, deletes stale temp files left by a crash and
  // counts the blocks present. io_error when the directory cannot be used.
  static result<std::unique_ptr<block_store>> open(const std::string& data_dir, bool fsync);

  const std::string& data_dir() const { return data_dir_; }
  std::string path_of(const hash256& id) const;
  std::string corrupted_dir() const;

  // The whole file. not_found when absent, io_error when unreadable.
  result<std::string> read(const hash256& id) const;
  bool exists(const hash256& id) const;
  // Atomically makes `bytes` the file of `id` (temp file, write, fsync if
  // enabled, rename, directory fsync if enabled).
  result<void> write(const hash256& id, std::string_view bytes);
  // The file in pieces of at most `piece` bytes, handed to `sink` in order.
  // not_found, io_error, or the sink's error.
  result<void> read_pieces(const hash256& id, size_t piece,
                           const std::function<result<void>(std::string_view)>& sink) const;

  // A file written piece by piece: the same temp file, fsync and rename as
  // write(), the rename only at commit(). Dropped uncommitted, the temp file
  // is deleted. One thread at a time.
  class file_writer {
   public:
    ~file_writer();
    file_writer(const file_writer&) = delete;
    file_writer& operator=(const file_writer&) = delete;
    result<void> append(std::string_view bytes);
    // Makes the bytes written the file of the block (replacing any).
    result<void> commit();

   private:
    friend class block_store;
    file_writer(block_store& s, hash256 id, std::string dir, std::string tmp, int fd)
        : store_(s), id_(id), dir_(std::move(dir)), tmp_(std::move(tmp)), fd_(fd) {}
    block_store& store_;
    hash256 id_;
    std::string dir_, tmp_;
    int fd_;
    uint64_t size_ = 0;
    bool done_ = false;
  };
  result<std::unique_ptr<file_writer>> begin_write(const hash256& id);

  // Deletes the file. false when it was already absent.
  result<bool> remove(const hash256& id);
  // Moves the file to corrupted_dir(). false when it was already absent.
  result<bool> move_aside(const hash256& id);

  uint64_t blocks() const { return blocks_.load(std::memory_order_relaxed); }
  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  // Temp files deleted by open().
  uint64_t stale_temp_files_removed() const { return stale_removed_; }

 private:
  block_store(std::string data_dir, bool fsync) : data_dir_(std::move(data_dir)), fsync_(fsync) {}
  result<void> scan();
  result<std::string> ensure_dir(const hash256& id);

  std::string data_dir_;
  bool fsync_;
  std::atomic<uint64_t> blocks_{0};
  std::atomic<uint64_t> bytes_{0};
  uint64_t stale_removed_ = 0;
};

}  // namespace garage::block
