// stream: the pieces shared by the transports to carry a streamed body
// (transport.h): a bounded pipe between one producer and one consumer, the
// reader and writer that wrap it, and the in-process runners used for calls
// to self() and by local_net.
//
// Thread-safety: a body_pipe is shared by its producer and its consumer
// (and, over a network, the I/O thread); every member is safe to call from
// any thread. Hooks run on the thread that triggered them, outside the
// pipe's lock.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "rpc/transport.h"
#include "util/result.h"

namespace garage::rpc {

// Bytes of streamed bodies buffered by one transport, and the most ever
// buffered at once (what the tests bound).
struct stream_gauge {
  std::atomic<int64_t> buffered{0};
  std::atomic<int64_t> high_water{0};
  void add(int64_t n);
};

// Chunks are cut to at most this many bytes (a frame's payload).
inline constexpr size_t stream_piece = 64 * 1024;

// One streamed body, from its producer to its consumer, holding at most
// `limit` bytes (chunks are cut into pieces of stream_piece bytes).
class body_pipe {
 public:
  using clock = std::chrono::steady_clock;

  explicit body_pipe(size_t limit, std::shared_ptr<stream_gauge> gauge = nullptr);
  ~body_pipe();
  body_pipe(const body_pipe&) = delete;
  body_pipe& operator=(const body_pipe&) = delete;

  // Both ends give up waiting at `deadline` (the pipe then fails with
  // timeout). Default: never.
  void set_deadline(clock::time_point deadline);

  // ---- producer ----
  // Appends `chunk`, blocking while the pipe is full. Fails once the pipe
  // failed (consumer gone, timeout, transport error) or ended.
  result<void> write(std::string_view chunk);
  // Never blocks (the I/O thread): false when the chunk does not fit (unless
  // `force`: a whole body already in memory). A chunk for a pipe that failed
  // or ended is dropped (true).
  bool push(std::string chunk, bool force = false);
  // The body is complete (ok), or the producer failed (the consumer reads
  // what was buffered, then the error).
  void end(result<void> status);

  // ---- consumer ----
  // The next chunk, nullopt at the end, or the error (transport.h).
  result<std::optional<std::string>> read();
  // Never blocks (the I/O thread): up to `max` bytes buffered (a chunk may be
  // cut); `status` is set when the buffer is drained and the producer ended.
  struct taken {
    std::string data;
    std::optional<result<void>> status;
  };
  taken take(size_t max);
  // Whether take(credit) would return something: data (if credit > 0), the
  // end once drained, or the failure.
  bool sendable(size_t credit) const;
  // Bytes the producer put in, in all.
  uint64_t bytes_in() const;

  // ---- either end, or the transport ----
  // Fails the pipe at once: buffered bytes are dropped; both ends' next (or
  // current) blocking call returns `e`. The first failure wins; failing an
  // ended and drained pipe is a no-op.
  void fail(error e);
  bool failed() const;

  // Called after the producer added data or ended (the network wakes its
  // writer). Set before use.
  std::function<void()> on_ready;
  // Called after the consumer took `n` bytes (the network grants credit).
  std::function<void(size_t n)> on_consumed;

 private:
  void drop_locked();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  const size_t limit_;
  std::shared_ptr<stream_gauge> gauge_;
  std::deque<std::string> chunks_;
  size_t buffered_ = 0;
  uint64_t total_in_ = 0;
  std::optional<result<void>> end_;  // set by end()
  std::optional<error> failed_;      // set by fail()
  bool delivered_end_ = false;       // the consumer saw the end
  clock::time_point deadline_ = clock::time_point::max();
};

// stream_reader / stream_writer over a pipe. The reader fails the pipe when
// destroyed before the end (the producer's next write fails).
class pipe_reader final : public stream_reader {
 public:
  // `on_cancel` runs when the reader is destroyed before the end (after the
  // pipe failed): the network tells the producer's side.
  explicit pipe_reader(std::shared_ptr<body_pipe> p, std::function<void()> on_cancel = nullptr)
      : p_(std::move(p)), on_cancel_(std::move(on_cancel)) {}
  ~pipe_reader() override;
  result<std::optional<std::string>> read() override;

 private:
  std::shared_ptr<body_pipe> p_;
  std::function<void()> on_cancel_;
  bool done_ = false;
};

class pipe_writer final : public stream_writer {
 public:
  explicit pipe_writer(std::shared_ptr<body_pipe> p) : p_(std::move(p)) {}
  result<void> write(std::string_view chunk) override { return p_->write(chunk); }

 private:
  std::shared_ptr<body_pipe> p_;
};

// An upload_call whose response comes from `response` (set once by the
// transport) and whose body goes into `body`.
class pipe_upload final : public upload_call {
 public:
  struct response_slot {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<result<std::string>> r;
    std::function<void(result<std::string>)> waiter;  // finish_async
    void set(result<std::string> v);                  // the first one wins
  };
  pipe_upload(std::shared_ptr<body_pipe> body, std::shared_ptr<response_slot> response,
              body_pipe::clock::time_point deadline, std::function<void()> on_cancel = nullptr)
      : body_(std::move(body)),
        response_(std::move(response)),
        deadline_(deadline),
        on_cancel_(std::move(on_cancel)) {}
  ~pipe_upload() override;
  result<void> write(std::string_view chunk) override;
  result<std::string> finish() override;
  void abort(error e) override;
  void finish_async(std::function<void(result<std::string>)> done) override;

 private:
  std::shared_ptr<body_pipe> body_;
  std::shared_ptr<response_slot> response_;
  body_pipe::clock::time_point deadline_;
  std::function<void()> on_cancel_;
  bool finished_ = false;
};

// Handlers of any kind, for the transports' endpoint tables.
struct any_handler {
  handler_fn whole;
  stream_handler_fn stream;
  upload_handler_fn upload;
  explicit operator bool() const { return whole || stream || upload; }
};

// Runs the handler of a streamed-response call in process (on the calling
// thread: the transport posts this to a worker), writing into `out` and
// ending it with the handler's status. A plain handler's body is written as
// one chunk; exceptions become internal errors. Returns that status.
result<void> serve_stream_in_process(const any_handler& h, const std::string& endpoint,
                                     const node_id& from, std::string body, body_pipe& out);
// Runs the handler of an upload in process: reads `in`, returns the response.
result<std::string> serve_upload_in_process(const any_handler& h, const std::string& endpoint,
                                            const node_id& from, std::string head,
                                            std::shared_ptr<body_pipe> in);
// Runs a plain call on any handler kind (a stream handler's body gathered
// whole, up to max_body bytes).
result<std::string> serve_whole_in_process(const any_handler& h, const std::string& endpoint,
                                           const node_id& from, std::string body, size_t max_body);

}  // namespace garage::rpc
