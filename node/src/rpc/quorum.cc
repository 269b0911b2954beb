#include "rpc/quorum.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>

namespace garage::rpc {

result<consistency_mode> parse_consistency_mode(std::string_view text) {
  if (text == "consistent") return consistency_mode::consistent;
  if (text == "degraded") return consistency_mode::degraded;
  if (text == "dangerous") return consistency_mode::dangerous;
  return error(errc::invalid_argument, "consistency_mode: \"" + std::string(text) +
                                           "\" is not consistent, degraded or dangerous");
}

const char* to_string(consistency_mode m) {
  switch (m) {
    case consistency_mode::consistent:
      return "consistent";
    case consistency_mode::degraded:
      return "degraded";
    case consistency_mode::dangerous:
      return "dangerous";
  }
  return "?";
}

size_t write_quorum_of(size_t rf, consistency_mode m) {
  if (rf == 0) return 0;
  return m == consistency_mode::dangerous ? 1 : rf / 2 + 1;
}

size_t read_quorum_of(size_t rf, consistency_mode m) {
  if (rf == 0) return 0;
  return m == consistency_mode::consistent ? (rf + 1) / 2 : 1;
}

namespace {
struct multi_state {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::vector<node_id>> sets;
  size_t quorum = 0;
  std::vector<size_t> ok, failed;
  std::vector<std::string> errors;

  void record(const node_id& n, bool success) {
    for (size_t i = 0; i < sets.size(); ++i) {
      if (std::find(sets[i].begin(), sets[i].end(), n) == sets[i].end()) continue;
      ++(success ? ok : failed)[i];
    }
  }
  bool reached() const {
    for (size_t i = 0; i < sets.size(); ++i)
      if (ok[i] < quorum) return false;
    return true;
  }
  bool hopeless() const {
    for (size_t i = 0; i < sets.size(); ++i)
      if (sets[i].size() - failed[i] < quorum) return true;
    return false;
  }
};
}  // namespace

namespace {

// Sends to every node of the union of `sets` with `send(node, done)` and
// waits for the quorum of each set.
result<void> multi_quorum(
    const std::vector<std::vector<node_id>>& sets, const std::string& endpoint, size_t quorum,
    call_options opts,
    const std::function<void(const std::vector<node_id>&,
                             std::function<void(size_t, bool, std::string)>)>& send) {
  auto st = std::make_shared<multi_state>();
  st->sets = sets;
  st->quorum = quorum;
  st->ok.assign(sets.size(), 0);
  st->failed.assign(sets.size(), 0);
  std::vector<node_id> all;
  for (const auto& s : sets) {
    if (s.size() < quorum) {
      return error(errc::unavailable, endpoint + ": a write set has " + std::to_string(s.size()) +
                                          " nodes, fewer than the quorum of " +
                                          std::to_string(quorum) + " (is a layout applied?)");
    }
    all.insert(all.end(), s.begin(), s.end());
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  if (st->reached()) return ok();
  send(all, [st, all](size_t i, bool good, std::string err) {
    std::lock_guard lk(st->mu);
    st->record(all[i], good);
    if (!good) st->errors.push_back(layout::short_id(all[i]) + ": " + err);
    st->cv.notify_all();
  });
  std::unique_lock lk(st->mu);
  bool done = st->cv.wait_for(lk, opts.timeout + std::chrono::seconds(5),
                              [&] { return st->reached() || st->hopeless(); });
  if (st->reached()) return ok();
  if (!done) return error(errc::timeout, endpoint + ": no write quorum before the timeout");
  std::string msg = endpoint + ": write quorum of " + std::to_string(quorum) + " not reached (";
  for (size_t i = 0; i < st->errors.size(); ++i) msg += (i ? "; " : "") + st->errors[i];
  return error(errc::unavailable, msg + ")");
}

}  // namespace

result<void> multi_quorum_call(transport& net, const std::vector<std::vector<node_id>>& sets,
                               const std::string& endpoint, const std::string& body, size_t quorum,
                               call_options opts) {
  return multi_quorum(sets, endpoint, quorum, opts, [&](const auto& all, auto record) {
    for (size_t i = 0; i < all.size(); ++i) {
      net.call_async(all[i], endpoint, body, opts, [record, i](result<std::string> r) {
        record(i, r.has_value(), r ? std::string() : r.error().to_string());
      });
    }
  });
}

result<void> multi_quorum_upload(transport& net, const std::vector<std::vector<node_id>>& sets,
                                 const std::string& endpoint, const std::string& head,
                                 std::string_view body, size_t quorum, call_options opts) {
  return multi_quorum(sets, endpoint, quorum, opts, [&](const auto& all, auto record) {
    std::vector<std::unique_ptr<upload_call>> ups;
    for (const node_id& n : all) {
      ups.push_back(net.open_upload(n, endpoint, head, opts, std::max(body.size(), stream_window)));
    }
    std::vector<bool> live(all.size(), true);
    constexpr size_t piece = 64 * 1024;
    for (size_t off = 0; off < body.size(); off += piece) {
      for (size_t i = 0; i < ups.size(); ++i) {
        // A failed write: the call is over, its answer says why.
        if (live[i] && !ups[i]->write(body.substr(off, piece))) live[i] = false;
      }
    }
    for (size_t i = 0; i < ups.size(); ++i) {
      ups[i]->finish_async([record, i](result<std::string> r) {
        record(i, r.has_value(), r ? std::string() : r.error().to_string());
      });
    }
  });
}

}  // namespace garage::rpc
