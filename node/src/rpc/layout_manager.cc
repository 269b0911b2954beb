#include "rpc/layout_manager.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "util/codec.h"
#include "util/log.h"

namespace garage::rpc {

using layout::layout_history;

namespace {

constexpr std::string_view kFileName = "cluster_layout";
// File envelope: magic, format byte, BLAKE2b-256 of the payload, payload.
constexpr std::string_view kMagic = "GRGLAYT";
constexpr uint8_t kFileFormat = 1;
constexpr uint8_t kDigestFormat = 1;

error io_error(const std::string& what, const std::string& path, int err) {
  return error(errc::io_error, what + " " + path + ": " + std::strerror(err));
}

result<void> fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return io_error("cannot fsync", path, err);
  return ok();
}

// Temporary file, fsync, rename over `path`, fsync of the directory.
result<void> write_file_atomic(const std::string& dir, const std::string& path,
                               const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", tmp, errno);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return io_error("cannot write", tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return io_error("cannot fsync", tmp, err);
  }
  if (::close(fd) != 0) return io_error("cannot close", tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot rename to", path, errno);
  return fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

std::string encode_digest(const layout_digest& d) {
  encoder e;
  e.u8(kDigestFormat);
  e.u64be(d.version);
  e.raw(d.hash.view());
  return e.take();
}

result<layout_digest> decode_digest(std::string_view bytes) {
  decoder d(bytes);
  uint8_t format = d.u8();
  if (!d.failed() && format != kDigestFormat)
    return error(errc::not_implemented, "layout digest format " + std::to_string(format));
  layout_digest out;
  out.version = d.u64be();
  std::string_view raw = d.raw(32);
  if (!d.complete() || raw.size() != 32) return error(errc::corrupted, "bad layout digest");
  out.hash = hash256::from_raw(raw);
  return out;
}

}  // namespace

layout_digest digest_of(const layout_history& h) {
  return {h.current().version(), blake2b_256(layout::encode_layout_history(h))};
}

std::string encode_layout_file(const layout_history& h) {
  std::string payload = layout::encode_layout_history(h);
  std::string out(kMagic);
  out.push_back(static_cast<char>(kFileFormat));
  out.append(blake2b_256(payload).view());
  out.append(payload);
  return out;
}

result<layout_history> decode_layout_file(std::string_view bytes) {
  if (!bytes.starts_with(kMagic)) return error(errc::corrupted, "not a cluster layout file");
  bytes.remove_prefix(kMagic.size());
  if (bytes.empty()) return error(errc::corrupted, "truncated cluster layout file");
  uint8_t format = static_cast<uint8_t>(bytes[0]);
  if (format != kFileFormat)
    return error(errc::not_implemented, "cluster layout file format " + std::to_string(format) +
                                            " is newer than this version of garage understands");
  bytes.remove_prefix(1);
  if (bytes.size() < 32) return error(errc::corrupted, "truncated cluster layout file");
  hash256 sum = hash256::from_raw(bytes.substr(0, 32));
  bytes.remove_prefix(32);
  if (blake2b_256(bytes) != sum)
    return error(errc::corrupted, "cluster layout file checksum mismatch");
  return layout::decode_layout_history(bytes);
}

struct layout_manager::state : std::enable_shared_from_this<state> {
  state(transport& t, layout_manager_options o) : net(t), opts(std::move(o)) {}

  transport& net;
  layout_manager_options opts;
  std::string path;

  // The history and the conflicts seen; every change is stored while mu is
  // held, so the file and memory change in the same order.
  mutable std::mutex mu;
  layout_history hist;
  // An immutable copy of hist, replaced with it (for layout_source readers).
  std::shared_ptr<const layout_history> snap;
  std::set<std::pair<uint64_t, node_id>> conflicts;

  // Held while callbacks run, so that they see changes in order.
  std::mutex cb_mu;
  std::vector<change_fn> callbacks;

  std::mutex sync_mu;
  std::condition_variable cv;
  bool stopping = false;
  std::set<node_id> pull_queue;
  std::thread thread;

  call_options call_opts() const {
    call_options o;
    o.prio = priority::high;
    o.timeout = opts.rpc_timeout;
    return o;
  }

  result<void> persist(const layout_history& h) {
    return write_file_atomic(opts.metadata_dir, path, encode_layout_file(h));
  }

  // Runs `f` on a copy of the history; when it reports a change, stores the
  // copy, makes it current, and then notifies and pushes it.
  result<bool> mutate(const std::function<result<bool>(layout_history&)>& f) {
    layout_history copy;
    {
      std::lock_guard lk(mu);
      copy = hist;
      auto changed = f(copy);
      if (!changed) return std::move(changed).error();
      if (!*changed) return false;
      if (auto p = persist(copy); !p) {
        LOG_ERROR("layout: cannot store the cluster layout: {}", p.error().to_string());
        return std::move(p).error();
      }
      hist = copy;
      snap = std::make_shared<const layout_history>(hist);
    }
    notify();
    push_all(layout::encode_layout_history(copy));
    return true;
  }

  void notify() {
    std::lock_guard cb(cb_mu);
    if (callbacks.empty()) return;
    layout_history now;
    {
      std::lock_guard lk(mu);
      now = hist;
    }
    for (const auto& fn : callbacks) fn(now);
  }

  layout_digest my_digest() const {
    std::lock_guard lk(mu);
    return digest_of(hist);
  }

  void push_all(const std::string& encoded) {
    std::weak_ptr<state> weak = weak_from_this();
    for (const auto& p : net.peers()) {
      if (p.id == net.self() || !net.is_up(p.id)) continue;
      node_id peer = p.id;
      net.call_async(peer, "layout/push", encoded, call_opts(),
                     [weak, peer](result<std::string> r) {
                       auto s = weak.lock();
                       if (!s || !r) return;
                       auto theirs = decode_digest(*r);
                       if (!theirs || *theirs == s->my_digest()) return;
                       // They hold something we lack: fetch it (off this thread).
                       std::lock_guard lk(s->sync_mu);
                       s->pull_queue.insert(peer);
                       s->cv.notify_all();
                     });
    }
  }

  result<bool> merge_from(const node_id& peer, const layout_history& other) {
    return mutate([&](layout_history& h) -> result<bool> {
      auto out = h.merge(other);
      for (uint64_t v : out.conflicting_versions) {
        if (conflicts.insert({v, peer}).second)
          LOG_ERROR(
              "layout: node {} holds a different layout version {} than this node (two "
              "`layout apply` of the same version on different nodes?); this node keeps its "
              "own. Review `garage layout show` and apply a newer version to settle it",
              layout::short_id(peer), v);
      }
      // Conflicts about retired versions are over.
      std::erase_if(conflicts, [&](const auto& c) { return c.first < h.min_stored(); });
      return out.changed;
    });
  }

  result<void> pull_from(const node_id& peer) {
    auto r = net.call(peer, "layout/pull", {}, call_opts());
    if (!r) return std::move(r).error();
    auto theirs = layout::decode_layout_history(*r);
    if (!theirs) {
      LOG_WARN("layout: bad layout from {}: {}", layout::short_id(peer),
               theirs.error().to_string());
      return std::move(theirs).error();
    }
    auto merged = merge_from(peer, *theirs);
    if (!merged) return std::move(merged).error();
    return ok();
  }

  size_t sync_round() {
    size_t answered = 0;
    for (const auto& p : net.peers()) {
      if (p.id == net.self() || !net.is_up(p.id)) continue;
      auto r = net.call(p.id, "layout/digest", {}, call_opts());
      if (!r) continue;
      auto theirs = decode_digest(*r);
      if (!theirs) continue;
      ++answered;
      if (*theirs == my_digest()) continue;
      if (auto pulled = pull_from(p.id); !pulled) {
        LOG_DEBUG("layout: pull from {} failed: {}", layout::short_id(p.id),
                  pulled.error().to_string());
        continue;
      }
      // Still different: they lack something we hold; send it now rather
      // than wait for their own round.
      if (my_digest() != *theirs) {
        std::string mine;
        {
          std::lock_guard lk(mu);
          mine = layout::encode_layout_history(hist);
        }
        net.call_async(p.id, "layout/push", std::move(mine), call_opts(),
                       [](result<std::string>) {});
      }
    }
    return answered;
  }

  void run() {
    std::unique_lock lk(sync_mu);
    auto next = std::chrono::steady_clock::now() + opts.sync_interval;
    while (!stopping) {
      cv.wait_until(lk, next, [&] { return stopping || !pull_queue.empty(); });
      if (stopping) break;
      auto pulls = std::move(pull_queue);
      pull_queue.clear();
      bool periodic = std::chrono::steady_clock::now() >= next;
      lk.unlock();
      for (const auto& peer : pulls) {
        if (auto r = pull_from(peer); !r)
          LOG_DEBUG("layout: pull from {} failed: {}", layout::short_id(peer),
                    r.error().to_string());
      }
      if (periodic) sync_round();
      lk.lock();
      if (periodic) next = std::chrono::steady_clock::now() + opts.sync_interval;
    }
  }

  void register_handlers() {
    std::weak_ptr<state> weak = weak_from_this();
    auto gone = [] { return error(errc::unavailable, "the layout manager is stopped"); };
    net.register_handler("layout/digest",
                         [weak, gone](const node_id&, std::string) -> result<std::string> {
                           auto s = weak.lock();
                           if (!s) return gone();
                           return encode_digest(s->my_digest());
                         });
    net.register_handler("layout/pull",
                         [weak, gone](const node_id&, std::string) -> result<std::string> {
                           auto s = weak.lock();
                           if (!s) return gone();
                           std::lock_guard lk(s->mu);
                           return layout::encode_layout_history(s->hist);
                         });
    net.register_handler(
        "layout/push", [weak, gone](const node_id& from, std::string body) -> result<std::string> {
          auto s = weak.lock();
          if (!s) return gone();
          GARAGE_ASSIGN_OR_RETURN(layout_history theirs, layout::decode_layout_history(body));
          GARAGE_TRY(s->merge_from(from, theirs));
          return encode_digest(s->my_digest());
        });
  }
};

namespace {

// A stored layout of another replication factor: a fresh cluster (nothing
// applied yet) takes the configured one; an applied layout is refused.
result<layout_history> adapt_replication(layout_history h, const layout::layout_parameters& want,
                                         const std::string& path) {
  uint32_t have = h.current().replication_factor();
  if (have == want.replication_factor) return h;
  for (const auto& v : h.versions())
    if (v.has_assignment())
      return error(errc::invalid_argument,
                   "the cluster layout in " + path + " uses replication factor " +
                       std::to_string(have) + " but the configuration says " +
                       std::to_string(want.replication_factor) +
                       "; changing the replication factor of a cluster is not supported");
  auto staging = h.staging();
  std::optional<layout::layout_parameters> params = staging.parameters();
  if (params) params->replication_factor = want.replication_factor;
  return layout_history::from_parts(
      {layout::layout_version(want)}, h.trackers(),
      layout::layout_staging::from_parts(staging.roles(), params, staging.stamp()));
}

}  // namespace

result<std::unique_ptr<layout_manager>> layout_manager::open(transport& net,
                                                             layout_manager_options opts) {
  if (auto v = layout::validate(opts.initial); !v) return std::move(v).error();
  std::error_code ec;
  std::filesystem::create_directories(opts.metadata_dir, ec);
  if (ec)
    return error(errc::io_error,
                 "cannot create metadata_dir " + opts.metadata_dir + ": " + ec.message());
  auto s = std::make_shared<state>(net, opts);
  s->path = (std::filesystem::path(opts.metadata_dir) / kFileName).string();
  if (std::filesystem::exists(s->path, ec)) {
    std::ifstream in(s->path, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    if (!in.good() && !in.eof()) return error(errc::io_error, "cannot read " + s->path);
    auto h = decode_layout_file(buf.str());
    if (!h)
      return error(errc::corrupted,
                   "the cluster layout " + s->path + " is damaged (" + h.error().message +
                       "); refusing to start with a reset layout. Restore it from a backup, or "
                       "move it away to rejoin the cluster as an empty node that pulls the "
                       "layout from its peers");
    GARAGE_ASSIGN_OR_RETURN(s->hist, adapt_replication(std::move(*h), opts.initial, s->path));
  } else {
    s->hist = layout_history(opts.initial);
  }
  GARAGE_TRY(s->persist(s->hist));
  s->register_handlers();
  return std::unique_ptr<layout_manager>(new layout_manager(std::move(s)));
}

layout_manager::layout_manager(std::shared_ptr<state> s) : s_(std::move(s)) {}

layout_manager::~layout_manager() { stop(); }

void layout_manager::start() {
  {
    std::lock_guard lk(s_->sync_mu);
    if (s_->thread.joinable() || s_->stopping) return;
    s_->thread = std::thread([s = s_] { s->run(); });
  }
  std::string mine;
  {
    std::lock_guard lk(s_->mu);
    mine = layout::encode_layout_history(s_->hist);
  }
  s_->push_all(mine);
}

void layout_manager::stop() {
  std::thread t;
  {
    std::lock_guard lk(s_->sync_mu);
    s_->stopping = true;
    s_->cv.notify_all();
    t = std::move(s_->thread);
  }
  if (t.joinable()) t.join();
}

const node_id& layout_manager::self() const { return s_->net.self(); }

layout_history layout_manager::history() const {
  std::lock_guard lk(s_->mu);
  return s_->hist;
}

std::shared_ptr<const layout_history> layout_manager::snapshot() const {
  std::lock_guard lk(s_->mu);
  if (!s_->snap) s_->snap = std::make_shared<const layout_history>(s_->hist);
  return s_->snap;
}

uint64_t layout_manager::version() const {
  std::lock_guard lk(s_->mu);
  return s_->hist.current().version();
}

layout_digest layout_manager::digest() const { return s_->my_digest(); }

std::vector<layout_conflict> layout_manager::conflicts() const {
  std::lock_guard lk(s_->mu);
  std::vector<layout_conflict> out;
  for (const auto& [v, peer] : s_->conflicts) out.push_back({v, peer});
  return out;
}

result<void> layout_manager::stage(const std::function<result<void>(layout_history&)>& fn) {
  auto r = s_->mutate([&](layout_history& h) -> result<bool> {
    GARAGE_TRY(fn(h));
    return true;
  });
  if (!r) return std::move(r).error();
  return ok();
}

result<void> layout_manager::stage_role(const node_id& id, layout::node_role role) {
  return stage([&](layout_history& h) { return h.stage_role(id, role); });
}

result<void> layout_manager::stage_remove(const node_id& id) {
  return stage([&](layout_history& h) { return h.stage_remove(id); });
}

result<void> layout_manager::stage_parameters(layout::layout_parameters params) {
  return stage([&](layout_history& h) { return h.stage_parameters(params); });
}

result<layout::computed_layout> layout_manager::preview() const { return history().preview(); }

result<layout::layout_report> layout_manager::apply(uint64_t expected_version) {
  std::optional<layout::layout_report> report;
  auto r = s_->mutate([&](layout_history& h) -> result<bool> {
    GARAGE_ASSIGN_OR_RETURN(report, h.apply(expected_version));
    return true;
  });
  if (!r) return std::move(r).error();
  LOG_INFO("layout: applied version {}", expected_version);
  return std::move(*report);
}

result<void> layout_manager::revert() {
  auto r = s_->mutate([](layout_history& h) -> result<bool> {
    if (h.staging().empty()) return false;
    h.revert();
    return true;
  });
  if (!r) return std::move(r).error();
  return ok();
}

result<bool> layout_manager::update_trackers(
    const std::function<bool(layout_history&, const node_id& self)>& fn) {
  const node_id me = self();
  return s_->mutate([&](layout_history& h) -> result<bool> { return fn(h, me); });
}

result<layout::skip_report> layout_manager::skip_dead_nodes(uint64_t version,
                                                            bool allow_missing_data,
                                                            size_t write_quorum) {
  std::vector<node_id> down;
  for (const auto& n : history().all_nodes())
    if (n != self() && !s_->net.is_up(n)) down.push_back(n);
  std::optional<layout::skip_report> report;
  auto r = s_->mutate([&](layout_history& h) -> result<bool> {
    GARAGE_ASSIGN_OR_RETURN(report,
                            h.skip_dead_nodes(version, down, allow_missing_data, write_quorum));
    return !report->ack_raised.empty() || !report->sync_raised.empty();
  });
  if (!r) return std::move(r).error();
  if (*r)
    LOG_WARN("layout: skip-dead-nodes for version {}: ack raised for {} node(s), sync for {}{}",
             version, report->ack_raised.size(), report->sync_raised.size(),
             allow_missing_data ? " (allowing missing data)" : "");
  return std::move(*report);
}

void layout_manager::on_change(change_fn fn) {
  std::lock_guard cb(s_->cb_mu);
  s_->callbacks.push_back(std::move(fn));
}

size_t layout_manager::sync_now() { return s_->sync_round(); }

}  // namespace garage::rpc
