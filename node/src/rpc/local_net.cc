#include "rpc/local_net.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <queue>
#include <set>
#include <thread>
#include <vector>

#include "rpc/stream.h"

namespace garage::rpc {

namespace {
using clock_type = std::chrono::steady_clock;

std::pair<node_id, node_id> link_of(const node_id& a, const node_id& b) {
  return a < b ? std::pair{a, b} : std::pair{b, a};
}
}  // namespace

class local_transport;

struct local_net::impl {
  struct task {
    clock_type::time_point due;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const task& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };

  mutable std::mutex mu;
  std::condition_variable cv;
  std::priority_queue<task, std::vector<task>, std::greater<>> queue;
  uint64_t seq = 0;
  bool stopping = false;
  std::vector<std::thread> workers;

  std::map<node_id, std::unique_ptr<local_transport>> nodes;
  std::set<node_id> down;
  std::set<std::pair<node_id, node_id>> cuts;
  std::map<std::pair<node_id, node_id>, std::chrono::microseconds> delays;
  std::map<std::pair<node_id, std::string>, uint64_t> delivered;

  void post(clock_type::time_point due, std::function<void()> fn) {
    {
      std::lock_guard lk(mu);
      queue.push(task{due, seq++, std::move(fn)});
    }
    cv.notify_one();
  }

  void run() {
    std::unique_lock lk(mu);
    while (true) {
      if (stopping && queue.empty()) return;
      if (queue.empty()) {
        cv.wait(lk);
        continue;
      }
      auto due = queue.top().due;
      if (due > clock_type::now()) {
        cv.wait_until(lk, due);
        continue;
      }
      auto fn = std::move(const_cast<task&>(queue.top()).fn);
      queue.pop();
      lk.unlock();
      fn();
      lk.lock();
    }
  }

  // Under mu.
  bool reachable(const node_id& a, const node_id& b) const {
    if (a == b) return !down.contains(a);
    return !down.contains(a) && !down.contains(b) && !cuts.contains(link_of(a, b));
  }
  std::chrono::microseconds delay(const node_id& a, const node_id& b) const {
    if (a == b) return {};
    auto it = delays.find(link_of(a, b));
    return it == delays.end() ? std::chrono::microseconds{} : it->second;
  }

  void call(const node_id& from, const node_id& to, const std::string& endpoint, std::string body,
            call_options opts, reply_fn done);
  std::unique_ptr<stream_reader> open_stream(const node_id& from, const node_id& to,
                                             const std::string& endpoint, std::string body,
                                             call_options opts);
  std::unique_ptr<upload_call> open_upload(const node_id& from, const node_id& to,
                                           const std::string& endpoint, std::string head,
                                           call_options opts, size_t buffer);
  // The target's transport if it exists and is reachable from `from`, and
  // the link's delay.
  std::pair<local_transport*, std::chrono::microseconds> route(const node_id& from,
                                                               const node_id& to);
  // Counts a delivery; false if the link went away meanwhile.
  bool deliver(const node_id& from, const node_id& to, const std::string& endpoint) {
    std::lock_guard lk(mu);
    if (!reachable(from, to)) return false;
    ++delivered[{to, endpoint}];
    return true;
  }
};

class local_transport final : public transport {
 public:
  local_transport(local_net::impl& net, node_id id) : net_(net), id_(id) {}

  const node_id& self() const override { return id_; }
  void register_handler(const std::string& endpoint, handler_fn h) override {
    std::lock_guard lk(mu_);
    handlers_[endpoint] = any_handler{std::move(h), {}, {}};
  }
  void register_stream_handler(const std::string& endpoint, stream_handler_fn h) override {
    std::lock_guard lk(mu_);
    handlers_[endpoint] = any_handler{{}, std::move(h), {}};
  }
  void register_upload_handler(const std::string& endpoint, upload_handler_fn h) override {
    std::lock_guard lk(mu_);
    handlers_[endpoint] = any_handler{{}, {}, std::move(h)};
  }
  any_handler handler(const std::string& endpoint) const {
    std::lock_guard lk(mu_);
    auto it = handlers_.find(endpoint);
    return it == handlers_.end() ? any_handler{} : it->second;
  }
  std::unique_ptr<stream_reader> open_stream(const node_id& to, const std::string& endpoint,
                                             std::string body, call_options opts) override {
    return net_.open_stream(id_, to, endpoint, std::move(body), opts);
  }
  std::unique_ptr<upload_call> open_upload(const node_id& to, const std::string& endpoint,
                                           std::string head, call_options opts,
                                           size_t buffer = stream_window) override {
    return net_.open_upload(id_, to, endpoint, std::move(head), opts, buffer);
  }
  void call_async(const node_id& to, const std::string& endpoint, std::string body,
                  call_options opts, reply_fn done) override {
    net_.call(id_, to, endpoint, std::move(body), opts, std::move(done));
  }
  bool is_up(const node_id& peer) const override {
    std::lock_guard lk(net_.mu);
    return net_.nodes.contains(peer) && net_.reachable(id_, peer);
  }
  std::optional<std::chrono::microseconds> rtt(const node_id& peer) const override {
    std::lock_guard lk(net_.mu);
    if (!net_.nodes.contains(peer)) return std::nullopt;
    return 2 * net_.delay(id_, peer);
  }
  std::vector<peer_status> peers() const override {
    std::lock_guard lk(net_.mu);
    std::vector<peer_status> out;
    for (const auto& [id, _] : net_.nodes) {
      if (id == id_) continue;
      out.push_back({id, "local", net_.reachable(id_, id), 2 * net_.delay(id_, id)});
    }
    return out;
  }

 private:
  local_net::impl& net_;
  node_id id_;
  mutable std::mutex mu_;
  std::map<std::string, any_handler> handlers_;
};

void local_net::impl::call(const node_id& from, const node_id& to, const std::string& endpoint,
                           std::string body, call_options opts, reply_fn done) {
  struct call_state {
    std::mutex mu;
    reply_fn done;
    // Runs `done` once; later completions (timeout after reply, or reply
    // after timeout) are dropped.
    void finish(result<std::string> r) {
      reply_fn f;
      {
        std::lock_guard lk(mu);
        f = std::move(done);
        done = nullptr;
      }
      if (f) f(std::move(r));
    }
  };
  auto st = std::make_shared<call_state>();
  st->done = std::move(done);
  local_transport* target = nullptr;
  std::chrono::microseconds d{};
  {
    std::lock_guard lk(mu);
    auto it = nodes.find(to);
    if (it != nodes.end() && reachable(from, to)) target = it->second.get();
    d = delay(from, to);
  }
  auto now = clock_type::now();
  if (!target) {
    post(now, [st, to] {
      st->finish(error(errc::unavailable, "peer " + layout::short_id(to) + " unreachable"));
    });
    return;
  }
  post(now + opts.timeout,
       [st, endpoint] { st->finish(error(errc::timeout, endpoint + ": timed out")); });
  post(now + d, [this, st, from, to, target, endpoint, d, body = std::move(body)]() mutable {
    bool ok;
    {
      std::lock_guard lk(mu);
      ok = reachable(from, to);
      if (ok) ++delivered[{to, endpoint}];
    }
    if (!ok) {
      // post() takes mu: never call it with mu held.
      post(clock_type::now(), [st, to] {
        st->finish(error(errc::unavailable, "peer " + layout::short_id(to) + " unreachable"));
      });
      return;
    }
    result<std::string> r = serve_whole_in_process(target->handler(endpoint), endpoint, from,
                                                   std::move(body), SIZE_MAX);
    post(clock_type::now() + d, [this, st, from, to, r = std::move(r)]() mutable {
      bool ok;
      {
        std::lock_guard lk(mu);
        ok = reachable(from, to);
      }
      if (!ok) r = error(errc::unavailable, "peer " + layout::short_id(to) + " unreachable");
      st->finish(std::move(r));
    });
  });
}

std::pair<local_transport*, std::chrono::microseconds> local_net::impl::route(const node_id& from,
                                                                              const node_id& to) {
  std::lock_guard lk(mu);
  auto it = nodes.find(to);
  local_transport* target = it != nodes.end() && reachable(from, to) ? it->second.get() : nullptr;
  return {target, delay(from, to)};
}

// Streams run their handler on one of the net's threads, which it holds for
// the whole transfer; the body goes through one pipe, so the delay of the
// link applies once, before the handler starts (and, for an upload, to the
// response).
std::unique_ptr<stream_reader> local_net::impl::open_stream(const node_id& from, const node_id& to,
                                                            const std::string& endpoint,
                                                            std::string body, call_options opts) {
  auto pipe = std::make_shared<body_pipe>(stream_window);
  auto now = clock_type::now();
  pipe->set_deadline(now + opts.timeout);
  auto [target, d] = route(from, to);
  auto unreachable = error(errc::unavailable, "peer " + layout::short_id(to) + " unreachable");
  if (!target) {
    pipe->end(unreachable);
  } else {
    post(now + d, [this, pipe, from, to, target = target, endpoint, unreachable,
                   body = std::move(body)]() mutable {
      if (!deliver(from, to, endpoint)) {
        pipe->end(unreachable);
        return;
      }
      (void)serve_stream_in_process(target->handler(endpoint), endpoint, from, std::move(body),
                                    *pipe);
    });
  }
  return std::make_unique<pipe_reader>(std::move(pipe));
}

std::unique_ptr<upload_call> local_net::impl::open_upload(const node_id& from, const node_id& to,
                                                          const std::string& endpoint,
                                                          std::string head, call_options opts,
                                                          size_t buffer) {
  auto pipe = std::make_shared<body_pipe>(buffer);
  auto slot = std::make_shared<pipe_upload::response_slot>();
  auto now = clock_type::now();
  auto deadline = now + opts.timeout;
  pipe->set_deadline(deadline);
  auto [target, d] = route(from, to);
  auto unreachable = error(errc::unavailable, "peer " + layout::short_id(to) + " unreachable");
  if (!target) {
    slot->set(unreachable);
    pipe->fail(unreachable);
  } else {
    post(deadline, [slot, pipe, endpoint] {
      slot->set(error(errc::timeout, endpoint + ": timed out"));
      pipe->fail(error(errc::timeout, endpoint + ": timed out"));
    });
    post(now + d, [this, pipe, slot, from, to, d = d, target = target, endpoint, unreachable,
                   head = std::move(head)]() mutable {
      if (!deliver(from, to, endpoint)) {
        slot->set(unreachable);
        pipe->fail(unreachable);
        return;
      }
      auto r =
          serve_upload_in_process(target->handler(endpoint), endpoint, from, std::move(head), pipe);
      // The caller's writes fail from here on: the call is answered.
      pipe->fail(error(errc::unavailable, endpoint + ": answered before the end of the body"));
      post(clock_type::now() + d, [this, slot, from, to, unreachable, r = std::move(r)]() mutable {
        bool ok;
        {
          std::lock_guard lk(mu);
          ok = reachable(from, to);
        }
        slot->set(ok ? std::move(r) : result<std::string>(unreachable));
      });
    });
  }
  return std::make_unique<pipe_upload>(std::move(pipe), std::move(slot), deadline);
}

local_net::local_net(size_t threads) : impl_(std::make_unique<impl>()) {
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i)
    impl_->workers.emplace_back([this] { impl_->run(); });
}

local_net::~local_net() {
  {
    std::lock_guard lk(impl_->mu);
    impl_->stopping = true;
    // Pending timers fire now: nobody waits for them any more.
    std::vector<impl::task> rest;
    while (!impl_->queue.empty()) {
      rest.push_back(std::move(const_cast<impl::task&>(impl_->queue.top())));
      impl_->queue.pop();
    }
    for (auto& t : rest) {
      t.due = clock_type::now();
      impl_->queue.push(std::move(t));
    }
  }
  impl_->cv.notify_all();
  for (auto& t : impl_->workers) t.join();
}

transport& local_net::add(const node_id& id) {
  std::lock_guard lk(impl_->mu);
  auto& slot = impl_->nodes[id];
  if (!slot) slot = std::make_unique<local_transport>(*impl_, id);
  return *slot;
}

transport& local_net::node(const node_id& id) {
  std::lock_guard lk(impl_->mu);
  return *impl_->nodes.at(id);
}

void local_net::set_up(const node_id& id, bool up) {
  std::lock_guard lk(impl_->mu);
  if (up)
    impl_->down.erase(id);
  else
    impl_->down.insert(id);
}

void local_net::cut(const node_id& a, const node_id& b, bool is_cut) {
  std::lock_guard lk(impl_->mu);
  if (is_cut)
    impl_->cuts.insert(link_of(a, b));
  else
    impl_->cuts.erase(link_of(a, b));
}

void local_net::set_delay(const node_id& a, const node_id& b, std::chrono::microseconds one_way) {
  std::lock_guard lk(impl_->mu);
  impl_->delays[link_of(a, b)] = one_way;
}

uint64_t local_net::delivered(const node_id& to, const std::string& endpoint) const {
  std::lock_guard lk(impl_->mu);
  auto it = impl_->delivered.find({to, endpoint});
  return it == impl_->delivered.end() ? 0 : it->second;
}

}  // namespace garage::rpc
