// block_manager: content-addressed data blocks on this node's disk, and their
// reference counts.
//
// A block is identified by the BLAKE2b-256 of its plain data. Files live under
// config.data_dir (layout in block_store.h, byte format in block_file.h);
// reference counts and the garbage-collection queue live in the metadata
// database (encodings in block_rc.h).
//
// Garbage collection: a block whose count drops to zero is deleted once it has
// stayed at zero for gc_delay_msec. put() of a zero-count block (a re-upload
// that is about to be referenced again) restarts that delay, and
// collect_garbage() re-checks the count inside a transaction, so a block being
// written for a new reference is never deleted under it. A block that is put
// but never referenced is an orphan (a failed upload) and is collected the same
// way.
//
// Thread-safety: every method may be called from any thread. Locking order:
// put(), get() and collect_garbage() may take a per-block lock and then open a
// database transaction of their own (db::database::begin()), so they must not
// be called by a thread that holds an open transaction on the same database.
// incref() and decref() work inside the caller's transaction and take no lock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/db.h"
#include "util/hash.h"
#include "util/result.h"

namespace garage::block {

struct block_config {
  std::string data_dir;
  bool fsync = false;                // config data_fsync
  int compression_level = 1;         // zstd level; 0 = never compress
  uint64_t gc_delay_msec = 600'000;  // config block_gc_delay_secs * 1000
  // Wall clock in msec, read by put() to date a zero-count block's last write.
  // Empty means util/clock.h now_msec(); tests install a fake.
  std::function<uint64_t()> clock;
  // Cluster nodes keep a resync queue (tree "block_resync"): a block whose
  // count goes from zero to one is queued, so that a node that must hold a
  // block and lacks it fetches it (block_net::resync).
  bool resync_queue = false;
};

struct block_stats {
  uint64_t blocks = 0;           // block files present
  uint64_t bytes_on_disk = 0;    // their total size (compressed size when compressed)
  uint64_t gc_queue = 0;         // zero-count blocks waiting for GC (estimate from the db)
  uint64_t corrupted_reads = 0;  // files found corrupted and moved aside since open
};

class block_manager {
 public:
  // Opens the store in cfg.data_dir (created if absent; stale temp files from a
  // crash are deleted) and the trees "block_rc" and "block_gc" in `db`, which
  // must outlive the manager. io_error when the directory is unusable.
  static result<std::unique_ptr<block_manager>> open(const block_config& cfg, db::database& db);
  ~block_manager();
  block_manager(const block_manager&) = delete;
  block_manager& operator=(const block_manager&) = delete;

  // Stores `data`, whose BLAKE2b-256 the caller computed as `id` (checked in
  // debug builds: invalid_argument on a mismatch). Idempotent: a valid existing
  // file is kept; a corrupted one is moved aside and rewritten. Compressed with
  // zstd when that saves space. Written atomically. If the block's count is
  // zero (or it has no entry), its zero-since time is reset to now, postponing
  // GC. Errors: io_error, or a database error.
  result<void> put(const hash256& id, std::string_view data);

  // The plain data of the block, verified against `id`. not_found if absent;
  // corrupted if the file does not decode or its hash does not match (the file
  // is then moved to <data_dir>/corrupted/ and counted, never served).
  result<std::string> get(const hash256& id);

  // Pieces of at most 64 KiB, for blocks that stream (block_net).
  using piece_sink = std::function<result<void>(std::string_view)>;
  using piece_source = std::function<result<std::optional<std::string>>()>;

  // The plain data of the block handed to `sink` in pieces as the file is
  // read (and decompressed), hashed on the way. The data is known good only
  // at the end: corrupted then means the pieces given were bad (the file is
  // moved aside and counted, as get() does). not_found, io_error, or the
  // sink's error as is.
  result<void> get_stream(const hash256& id, const piece_sink& sink);

  // Stores a block of `size` bytes whose data comes from `source` in pieces
  // (nullopt at the end): written (compressed as it comes: see
  // block_file_writer) to a temp file as it arrives, hashed, and made
  // visible only once the hash matches `id`. invalid_argument when it does
  // not, or when the size differs (nothing is stored); the source's error as
  // is. A valid file already there is kept (the source is then not read to
  // its end). Otherwise like put().
  result<void> put_stream(const hash256& id, uint64_t size, const piece_source& source);

  // Whether a file for the block is present (not verified).
  bool exists(const hash256& id);

  // Reference counting inside the caller's open transaction `tx` (which must
  // belong to the database given to open()); nothing is written until the
  // caller commits. decref of a count already at zero is a no-op (logged).
  result<void> incref(db::transaction& tx, const hash256& id);
  result<void> decref(db::transaction& tx, const hash256& id, uint64_t now_msec);
  // The committed count (0 when the block has no entry).
  result<uint64_t> refcount(const hash256& id);

  // Deletes the files (and entries) of blocks whose count has been zero, and
  // which have not been put, for at least gc_delay_msec before `now_msec`.
  // Each deletion re-checks the entry inside its own transaction. A file that
  // cannot be deleted is logged and left queued. Returns how many were deleted.
  // `keep` (optional) may veto a deletion for now (a cluster node that no
  // longer owns a block keeps it until its owners have it): the block stays
  // queued and is asked about again on the next call.
  result<size_t> collect_garbage(uint64_t now_msec,
                                 const std::function<bool(const hash256&)>& keep = {});

  block_stats stats();

  // ---- for replication (block_net) ----
  // Ids of blocks with a count entry (referenced, or waiting for GC), in id
  // order, after `after` (exclusive; nullopt: from the start), at most limit.
  result<std::vector<hash256>> list_counted(const std::optional<hash256>& after, size_t limit);
  // Queues the block for a resync check at `due_msec`.
  result<void> queue_resync(const hash256& id, uint64_t due_msec);
  // Up to `limit` queued ids due at or before now_msec, taken off the queue.
  result<std::vector<hash256>> take_resync(uint64_t now_msec, size_t limit);
  uint64_t resync_queue_length();
  // Deletes this node's file of the block whatever its count (it was handed
  // over to the nodes that own it). Returns whether a file was there.
  result<bool> drop_local(const hash256& id);
  const block_config& config() const;

 private:
  struct rep;
  explicit block_manager(std::unique_ptr<rep> r);
  std::unique_ptr<rep> rep_;
};

}  // namespace garage::block
