#include "util/worker.h"

#include <algorithm>
#include <charconv>

#include "util/clock.h"
#include "util/log.h"

namespace garage {

const char* to_string(worker_state s) {
  switch (s) {
    case worker_state::busy:
      return "busy";
    case worker_state::idle:
      return "idle";
    case worker_state::done:
      return "done";
  }
  return "?";
}

struct worker_runner::slot {
  uint32_t id = 0;
  std::unique_ptr<worker> w;
  std::atomic<uint32_t> tranquility{0};
  std::mutex mu;  // guards the fields below and the wake flag
  std::condition_variable cv;
  bool wake = false;
  bool stopping = false;
  std::string state = "idle";
  uint64_t steps = 0, errors = 0, consecutive_errors = 0, last_error_msec = 0;
  std::string last_error;
  std::thread thread;
};

worker_runner::worker_runner() = default;
worker_runner::~worker_runner() { stop(); }

uint32_t worker_runner::add(std::unique_ptr<worker> w, uint32_t tranquility) {
  std::lock_guard lk(mu_);
  auto s = std::make_unique<slot>();
  s->id = static_cast<uint32_t>(slots_.size() + 1);
  s->w = std::move(w);
  s->tranquility = tranquility;
  slot* raw = s.get();
  if (stopping_) raw->state = "stopped";
  slots_.push_back(std::move(s));
  if (!stopping_) raw->thread = std::thread([this, raw] { run(*raw); });
  return raw->id;
}

void worker_runner::run(slot& s) {
  using clock = std::chrono::steady_clock;
  for (;;) {
    {
      std::lock_guard lk(s.mu);
      if (s.stopping) break;
      s.wake = false;
    }
    const auto t0 = clock::now();
    auto r = s.w->step();
    const auto took = clock::now() - t0;
    std::chrono::milliseconds wait{0};
    {
      std::lock_guard lk(s.mu);
      ++s.steps;
      if (!r) {
        ++s.errors;
        ++s.consecutive_errors;
        s.last_error = r.error().to_string();
        s.last_error_msec = now_msec();
        s.state = "error";
        uint64_t backoff_s =
            std::min<uint64_t>(300, 1ull << std::min<uint64_t>(s.consecutive_errors - 1, 9));
        wait = std::chrono::seconds(backoff_s);
        LOG_WARN("worker {}: {} (retry in {} s)", s.w->name(), s.last_error, backoff_s);
      } else {
        s.consecutive_errors = 0;
        s.state = to_string(*r);
        if (*r == worker_state::done) break;
        if (*r == worker_state::idle) {
          wait = s.w->idle_interval();
        } else {
          wait = std::chrono::duration_cast<std::chrono::milliseconds>(took * s.tranquility.load());
        }
      }
    }
    if (wait.count() > 0) {
      std::unique_lock lk(s.mu);
      s.cv.wait_for(lk, wait, [&] { return s.stopping || s.wake; });
    }
  }
  std::lock_guard lk(s.mu);
  if (s.stopping) s.state = "stopped";
}

std::vector<worker_status> worker_runner::list() const {
  std::lock_guard lk(mu_);
  std::vector<worker_status> out;
  for (const auto& s : slots_) {
    worker_status st;
    st.id = s->id;
    st.name = s->w->name();
    st.tranquility = s->tranquility;
    st.queue_length = s->w->queue_length();
    st.progress = s->w->progress();
    std::lock_guard slk(s->mu);
    st.state = s->state;
    st.steps = s->steps;
    st.errors = s->errors;
    st.consecutive_errors = s->consecutive_errors;
    st.last_error = s->last_error;
    st.last_error_msec = s->last_error_msec;
    out.push_back(std::move(st));
  }
  return out;
}

worker_runner::slot* worker_runner::find(std::string_view key) const {
  uint32_t id = 0;
  auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
  bool numeric = ec == std::errc() && p == key.data() + key.size();
  for (const auto& s : slots_) {
    if ((numeric && s->id == id) || s->w->name() == key) return s.get();
  }
  return nullptr;
}

result<void> worker_runner::set_tranquility(std::string_view key, uint32_t tranquility) {
  if (tranquility > 1000) return error(errc::invalid_argument, "tranquility must be 0..1000");
  std::lock_guard lk(mu_);
  slot* s = find(key);
  if (!s) return error(errc::not_found, "no worker \"" + std::string(key) + "\"");
  s->tranquility = tranquility;
  return ok();
}

void worker_runner::wake_all() {
  std::lock_guard lk(mu_);
  for (const auto& s : slots_) {
    std::lock_guard slk(s->mu);
    s->wake = true;
    s->cv.notify_all();
  }
}

void worker_runner::stop() {
  std::vector<slot*> all;
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    for (const auto& s : slots_) all.push_back(s.get());
  }
  for (slot* s : all) {
    {
      std::lock_guard slk(s->mu);
      s->stopping = true;
    }
    s->cv.notify_all();
  }
  for (slot* s : all)
    if (s->thread.joinable()) s->thread.join();
}

}  // namespace garage
