// Background workers: named loops of work (table sync, block resync, scrub,
// GC, lifecycle, …) run on their own threads, each with a state, a queue
// length, error counts and a "tranquility" throttle that operators can see
// (`garage worker list`, the admin API) and tune.
//
// A worker's step() does a bounded amount of work and says what happened:
//   busy   more work is waiting: step again, after sleeping tranquility × the
//          time the step took (tranquility 0: at once; 2: the worker uses at
//          most a third of a core);
//   idle   nothing to do: wait for wake() or the worker's idle interval;
//   done   the worker has finished for good (its thread exits).
// An error is counted and logged; the worker then waits with an exponential
// backoff (1 s doubling to 5 min) before trying again.
//
//   class gc_worker : public worker { ... };
//   worker_runner runner;
//   runner.add(std::make_unique<gc_worker>(...));
//   runner.list();   // statuses
//   runner.stop();
//
// Thread-safety: worker_runner members may be called from any thread. A
// worker's step() only ever runs on its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "util/result.h"

namespace garage {

enum class worker_state { busy, idle, done };
const char* to_string(worker_state s);

class worker {
 public:
  virtual ~worker() = default;
  virtual std::string name() const = 0;
  // Does a bounded amount of work.
  virtual result<worker_state> step() = 0;
  // Items waiting, if the worker has a queue.
  virtual std::optional<uint64_t> queue_length() const { return std::nullopt; }
  // Free text for status ("partition 12/256"); called from any thread.
  virtual std::string progress() const { return {}; }
  // How long to sleep when idle before stepping again (unless woken).
  virtual std::chrono::milliseconds idle_interval() const { return std::chrono::seconds(10); }
};

struct worker_status {
  uint32_t id = 0;
  std::string name;
  std::string state;  // "busy", "idle", "done", "error" (waiting after an error), "stopped"
  uint32_t tranquility = 0;
  std::optional<uint64_t> queue_length;
  std::string progress;
  uint64_t steps = 0;
  uint64_t errors = 0;
  uint64_t consecutive_errors = 0;
  std::string last_error;
  uint64_t last_error_msec = 0;  // wall clock ms, 0 if never
};

class worker_runner {
 public:
  worker_runner();
  ~worker_runner();
  worker_runner(const worker_runner&) = delete;
  worker_runner& operator=(const worker_runner&) = delete;

  // Starts the worker on its own thread; returns its id (1, 2, …).
  uint32_t add(std::unique_ptr<worker> w, uint32_t tranquility = 0);
  std::vector<worker_status> list() const;
  // Errors: not_found (no worker of that id or name), invalid_argument (over 1000).
  result<void> set_tranquility(std::string_view id_or_name, uint32_t tranquility);
  // Makes idle or backing-off workers step now (e.g. after a layout change).
  void wake_all();
  // Stops every worker (a step in progress finishes) and joins the threads.
  void stop();

 private:
  struct slot;
  void run(slot& s);
  slot* find(std::string_view id_or_name) const;

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<slot>> slots_;
  bool stopping_ = false;
};

}  // namespace garage
