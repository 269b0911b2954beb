// layout_manager: this node's copy of the cluster layout (layout::layout_history),
// stored in the metadata directory and kept in step with every peer.
//
// Storage: <metadata_dir>/cluster_layout, replaced atomically (temporary file,
// fsync, rename, fsync of the directory) before a change becomes visible, so a
// crash leaves the old or the new layout, never a torn one. The file is an
// envelope (magic, format byte, BLAKE2b-256 of the payload) around
// layout::encode_layout_history. A file that does not decode is an error at
// open(): the node refuses to start rather than forget its layout.
//
// Propagation, over the transport only. Endpoints this class registers:
//   "layout/digest"  -> version + BLAKE2b-256 of the encoded history
//   "layout/pull"    -> the encoded history
//   "layout/push"    <- an encoded history, merged into ours; answers our digest
// Every local change (stage, apply, revert, trackers) and every merge that
// changed something is pushed to all peers at once. A sync thread compares
// digests with every peer that is up every `sync_interval` and pulls + merges
// when they differ, and pulls at once from a peer whose push answer differs
// from our digest. layout_history::merge is commutative and idempotent, so
// every node converges on the same history. Two different layouts with the
// same version number (two `apply` racing on different nodes) cannot be
// merged: ours is kept, the conflict is logged and listed by conflicts()
// until that version is retired; applying a newer version supersedes it.
//
// Thread-safety: every member may be called from any thread. The history is
// kept behind a mutex; accessors hand out copies. on_change callbacks run
// after the change is stored, outside the lock, on the thread that made the
// change (a caller's thread, a transport worker or the sync thread); they
// must not call back into a mutating member of this class.
//
// Lifecycle: open() loads the file and registers the handlers; start() starts
// the sync thread; stop() (or the destructor) joins it. The transport must
// outlive the manager; handlers registered on it answer `unavailable` once the
// manager is gone.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "layout/layout.h"
#include "rpc/transport.h"
#include "util/hash.h"
#include "util/result.h"

namespace garage::rpc {

struct layout_manager_options {
  // Directory of the cluster_layout file (created if absent).
  std::string metadata_dir;
  // Parameters of the empty layout of a new cluster. A stored layout whose
  // replication factor differs from this one is refused at open() (changing
  // it is not supported, as in Garage).
  layout::layout_parameters initial;
  // How often digests are compared with every peer that is up.
  std::chrono::milliseconds sync_interval{5'000};
  // Timeout of one layout RPC.
  std::chrono::milliseconds rpc_timeout{10'000};
};

// What a node answers to "layout/digest".
struct layout_digest {
  uint64_t version = 0;  // current().version()
  hash256 hash{};        // BLAKE2b-256 of encode_layout_history
  bool operator==(const layout_digest&) const = default;
};

// Two different layouts under one version number, seen while merging a peer's
// history.
struct layout_conflict {
  uint64_t version = 0;
  node_id peer{};
  bool operator==(const layout_conflict&) const = default;
};

class layout_manager {
 public:
  // Loads (or, when the file is absent, creates) the stored layout and
  // registers the endpoints on `net`. Errors: io_error (cannot read or write
  // the file), corrupted (a file that does not decode: the message names it),
  // invalid_argument (replication factor differs from the stored layout's).
  static result<std::unique_ptr<layout_manager>> open(transport& net, layout_manager_options opts);
  ~layout_manager();
  layout_manager(const layout_manager&) = delete;
  layout_manager& operator=(const layout_manager&) = delete;

  // Starts the periodic sync thread (and pushes our layout to every peer
  // once). stop() joins it; both idempotent.
  void start();
  void stop();

  const node_id& self() const;

  // ---- reading ----
  layout::layout_history history() const;  // a copy
  // The same, shared and never modified (cheap: the table and block layers'
  // layout_source reads it on every request).
  std::shared_ptr<const layout::layout_history> snapshot() const;
  uint64_t version() const;  // current().version()
  layout_digest digest() const;
  std::vector<layout_conflict> conflicts() const;

  // ---- changing (each stored, then propagated) ----
  // Errors: those of the layout_history member of the same name, io_error
  // when the layout cannot be stored (nothing changes then).
  result<void> stage_role(const node_id& id, layout::node_role role);
  result<void> stage_remove(const node_id& id);
  result<void> stage_parameters(layout::layout_parameters params);
  // Applies several staging operations at once, all or nothing: `fn` edits a
  // copy of the history (through its stage_* members only) and its error
  // leaves everything as it was.
  result<void> stage(const std::function<result<void>(layout::layout_history&)>& fn);
  result<layout::computed_layout> preview() const;
  // Errors: conflict when expected_version is not current version + 1; the
  // errors of compute_layout.
  result<layout::layout_report> apply(uint64_t expected_version);
  result<void> revert();
  // For the table and block layers: `fn` raises this node's update trackers
  // (set_ack / set_sync / set_sync_ack / update_local with self()) on a copy
  // and returns whether it changed anything; a change is stored and
  // propagated. Returns whether it changed.
  result<bool> update_trackers(
      const std::function<bool(layout::layout_history&, const node_id& self)>& fn);

  // `garage layout skip-dead-nodes`: layout_history::skip_dead_nodes with the
  // nodes that have a role in a live version and are not up now (per the
  // transport; this node counts as up), stored and propagated like any
  // tracker change. Errors: those of skip_dead_nodes, io_error.
  result<layout::skip_report> skip_dead_nodes(uint64_t version, bool allow_missing_data,
                                              size_t write_quorum);

  // ---- notifications ----
  using change_fn = std::function<void(const layout::layout_history&)>;
  // Runs `fn` after every stored change (local or merged from a peer).
  void on_change(change_fn fn);

  // ---- propagation, also run by the sync thread ----
  // Compares digests with every peer that is up and pulls from those that
  // differ. Returns how many peers answered. Blocks (RPCs).
  size_t sync_now();

  struct state;

 private:
  explicit layout_manager(std::shared_ptr<state> s);
  std::shared_ptr<state> s_;
};

// The digest of a history (what "layout/digest" answers).
layout_digest digest_of(const layout::layout_history& h);

// The stored file format, exposed for tests: the envelope around
// encode_layout_history. Errors (corrupted): bad magic, checksum, format or
// payload.
std::string encode_layout_file(const layout::layout_history& h);
result<layout::layout_history> decode_layout_file(std::string_view bytes);

}  // namespace garage::rpc
