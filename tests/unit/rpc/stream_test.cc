// Streamed bodies: responses written by a handler while it runs, request
// bodies read by a handler as they arrive; over real TLS connections, to
// self() and over local_net. Bounded buffers, errors midway, cancellation.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "rpc/local_net.h"
#include "rpc/network.h"
#include "rpc_test_util.h"
#include "util/random.h"

namespace garage::rpc {
namespace {

using namespace std::chrono_literals;
using test::addr_of;
using test::start_node;
using test::temp_dir;
using test::test_options;
using test::wait_until;

// A body of `size` bytes produced piece by piece, never whole: byte i is a
// function of i, so the receiver can check every byte as it comes.
char pattern(uint64_t i) { return static_cast<char>((i * 131 + (i >> 16)) & 0xff); }

std::string pattern_piece(uint64_t off, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = pattern(off + i);
  return s;
}

// Checks chunks against the pattern as they arrive.
struct pattern_checker {
  uint64_t seen = 0;
  bool good = true;
  result<void> operator()(std::string_view chunk) {
    for (size_t i = 0; i < chunk.size() && good; ++i) good = chunk[i] == pattern(seen + i);
    seen += chunk.size();
    return ok();
  }
};

// Writes `size` bytes of the pattern in uneven chunks (up to 100 KiB).
result<void> write_pattern(stream_writer& out, uint64_t size) {
  uint64_t off = 0;
  size_t step = 1000;
  while (off < size) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(step, size - off));
    GARAGE_TRY(out.write(pattern_piece(off, n)));
    off += n;
    step = step * 3 % 100'000 + 1;
  }
  return ok();
}

// Reads a whole streamed body, checking it against the pattern.
result<uint64_t> read_pattern(stream_reader& in) {
  pattern_checker check;
  for (;;) {
    GARAGE_ASSIGN_OR_RETURN(auto chunk, in.read());
    if (!chunk) break;
    if (chunk->empty()) return error(errc::internal, "empty chunk");
    (void)check(*chunk);
    if (!check.good)
      return error(errc::corrupted, "byte mismatch near " + std::to_string(check.seen));
  }
  return check.seen;
}

// Registers the same test endpoints on any transport.
void register_endpoints(transport& t) {
  // body: decimal size; streams that many pattern bytes back.
  t.register_stream_handler(
      "pattern", [](const node_id&, std::string body, stream_writer& out) -> result<void> {
        return write_pattern(out, std::stoull(body));
      });
  // Streams `body` bytes, then fails.
  t.register_stream_handler(
      "fail_midway", [](const node_id&, std::string body, stream_writer& out) -> result<void> {
        GARAGE_TRY(write_pattern(out, std::stoull(body)));
        return error(errc::io_error, "disk gone midway");
      });
  // Reads the body; answers "<head>:<size>".
  t.register_upload_handler(
      "count", [](const node_id&, std::string head, stream_reader& in) -> result<std::string> {
        GARAGE_ASSIGN_OR_RETURN(uint64_t n, read_pattern(in));
        return head + ":" + std::to_string(n);
      });
  t.register_handler("plain", [](const node_id&, std::string body) -> result<std::string> {
    return "plain:" + body;
  });
}

result<std::string> upload_pattern(transport& t, const node_id& to, const std::string& endpoint,
                                   uint64_t size, call_options opts = {}) {
  uint64_t off = 0;
  return t.call_upload(to, endpoint, "h", opts, [&]() -> result<std::optional<std::string>> {
    if (off == size) return std::optional<std::string>();
    size_t n = static_cast<size_t>(std::min<uint64_t>(70'000, size - off));
    std::string s = pattern_piece(off, n);
    off += n;
    return std::optional<std::string>(std::move(s));
  });
}

// The behaviours every transport must have, run over network pairs, self()
// and local_net.
void check_basic_streams(transport& caller, const node_id& to) {
  pattern_checker check;
  auto r = caller.call_stream(to, "pattern", std::to_string(3 << 20), {},
                              [&](std::string_view c) { return check(c); });
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(check.good);
  EXPECT_EQ(check.seen, 3u << 20);
  // An empty streamed body.
  pattern_checker none;
  ASSERT_TRUE(
      caller.call_stream(to, "pattern", "0", {}, [&](std::string_view c) { return none(c); }));
  EXPECT_EQ(none.seen, 0u);
  // A plain call to a stream handler gets the body gathered.
  auto whole = caller.call(to, "pattern", "200000");
  ASSERT_TRUE(whole) << whole.error().to_string();
  EXPECT_EQ(*whole, pattern_piece(0, 200000));
  // A stream of a plain handler: one chunk.
  std::string got;
  ASSERT_TRUE(caller.call_stream(to, "plain", "x", {}, [&](std::string_view c) -> result<void> {
    got.append(c);
    return ok();
  }));
  EXPECT_EQ(got, "plain:x");
  // Failure after some chunks: an error, not a short body.
  pattern_checker part;
  auto failed = caller.call_stream(to, "fail_midway", "300000", {},
                                   [&](std::string_view c) { return part(c); });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, errc::io_error);
  EXPECT_EQ(failed.error().message, "disk gone midway");
  EXPECT_LE(part.seen, 300000u);
  auto failed_whole = caller.call(to, "fail_midway", "1000");
  ASSERT_FALSE(failed_whole);
  EXPECT_EQ(failed_whole.error().code, errc::io_error);
  // Uploads.
  auto up = upload_pattern(caller, to, "count", 3 << 20);
  ASSERT_TRUE(up) << up.error().to_string();
  EXPECT_EQ(*up, "h:" + std::to_string(3 << 20));
  auto empty_up = upload_pattern(caller, to, "count", 0);
  ASSERT_TRUE(empty_up) << empty_up.error().to_string();
  EXPECT_EQ(*empty_up, "h:0");
  // The caller's source fails midway: the handler's reader sees the error
  // and the call returns it.
  int pulls = 0;
  auto aborted =
      caller.call_upload(to, "count", "h", {}, [&]() -> result<std::optional<std::string>> {
        if (++pulls > 3) return error(errc::io_error, "source broke");
        return std::optional<std::string>(pattern_piece(1000 * (pulls - 1), 1000));
      });
  ASSERT_FALSE(aborted);
  EXPECT_EQ(aborted.error().code, errc::io_error);
  // Mismatched kinds.
  auto up_plain = upload_pattern(caller, to, "plain", 10);
  ASSERT_FALSE(up_plain);
  EXPECT_EQ(up_plain.error().code, errc::invalid_argument);
  auto whole_to_upload = caller.call(to, "count", "x");
  ASSERT_FALSE(whole_to_upload);
  EXPECT_EQ(whole_to_upload.error().code, errc::invalid_argument);
  auto missing = caller.call_stream(to, "nothing", "", {}, [](std::string_view) { return ok(); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
}

struct stream_pair : ::testing::Test {
  temp_dir da, db;
  std::unique_ptr<network> a, b;

  void SetUp() override {
    a = start_node(test_options(da.path(), test::secret_a));
    b = start_node(test_options(db.path(), test::secret_a));
    ASSERT_TRUE(a && b);
    register_endpoints(*a);
    register_endpoints(*b);
    auto r = a->connect(b->self(), addr_of(*b));
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
  }
};

TEST_F(stream_pair, StreamsBetweenNodes) {
  check_basic_streams(*a, b->self());
  // The connection is still fine for plain calls.
  auto r = a->call(b->self(), "plain", "after");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, "plain:after");
}

TEST_F(stream_pair, StreamsToSelf) { check_basic_streams(*a, a->self()); }

TEST_F(stream_pair, StreamedBytesCountInMetrics) {
  ASSERT_TRUE(
      a->call_stream(b->self(), "pattern", "500000", {}, [](std::string_view) { return ok(); }));
  ASSERT_TRUE(upload_pattern(*a, b->self(), "count", 400000));
  for (const auto& m : a->metrics()) {
    if (m.id != b->self()) continue;
    EXPECT_EQ(m.calls, 2u);
    EXPECT_GE(m.bytes_received, 500000u);
    EXPECT_GE(m.bytes_sent, 400000u);
  }
}

// 64 MiB each way, produced and consumed piece by piece: no side ever
// buffers more than a stream's window.
TEST_F(stream_pair, SixtyFourMebibytesWithBoundedBuffers) {
  constexpr uint64_t size = 64ull << 20;
  call_options o;
  o.timeout = 120s;
  pattern_checker check;
  auto r = a->call_stream(b->self(), "pattern", std::to_string(size), o,
                          [&](std::string_view c) { return check(c); });
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(check.good);
  EXPECT_EQ(check.seen, size);
  auto up = upload_pattern(*a, b->self(), "count", size, o);
  ASSERT_TRUE(up) << up.error().to_string();
  EXPECT_EQ(*up, "h:" + std::to_string(size));
  EXPECT_LE(a->stream_buffer_high_water(), 1u << 20);
  EXPECT_LE(b->stream_buffer_high_water(), 1u << 20);
  EXPECT_GT(a->stream_buffer_high_water(), 0u);
  EXPECT_GT(b->stream_buffer_high_water(), 0u);
  EXPECT_TRUE(wait_until([&] { return a->stream_buffered() == 0 && b->stream_buffered() == 0; }));
}

// A slow reader holds the handler back (it blocks in write) instead of
// making buffers grow.
TEST_F(stream_pair, SlowReaderHoldsTheWriterBack) {
  std::atomic<uint64_t> written{0};
  b->register_stream_handler("endless",
                             [&](const node_id&, std::string, stream_writer& out) -> result<void> {
                               for (;;) {
                                 GARAGE_TRY(out.write(std::string(32 * 1024, 'e')));
                                 written += 32 * 1024;
                               }
                             });
  call_options o;
  o.timeout = 10s;
  auto reader = a->open_stream(b->self(), "endless", "", o);
  auto first = reader->read();
  ASSERT_TRUE(first && *first);
  std::this_thread::sleep_for(500ms);
  // At most the credit (1 MiB, plus what was read) and the writer's window.
  EXPECT_LE(written.load(), (1u << 20) + stream_window + (128u << 10));
  EXPECT_GE(written.load(), 512u << 10) << "the credit lets a window through at once";
  EXPECT_LE(b->stream_buffer_high_water(), 1u << 20);
}

TEST_F(stream_pair, CallerTimeoutAndCancelUnblockTheWriter) {
  std::promise<result<void>> ended;
  std::atomic<bool> once{false};
  b->register_stream_handler("endless",
                             [&](const node_id&, std::string, stream_writer& out) -> result<void> {
                               result<void> r = ok();
                               for (;;) {
                                 r = out.write(std::string(32 * 1024, 'e'));
                                 if (!r) break;
                               }
                               if (!once.exchange(true)) ended.set_value(r);
                               return r;
                             });
  call_options o;
  o.timeout = 400ms;
  auto reader = a->open_stream(b->self(), "endless", "", o);
  ASSERT_TRUE(reader->read());  // then stop reading: the handler blocks
  auto f = ended.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready) << "the writer is still blocked";
  EXPECT_FALSE(f.get());
  // The reader reports the timeout.
  result<std::optional<std::string>> last = std::optional<std::string>();
  do {
    last = reader->read();
  } while (last && *last);
  ASSERT_FALSE(last);
  EXPECT_EQ(last.error().code, errc::timeout);

  // Dropping a reader cancels the stream too.
  std::promise<result<void>> ended2;
  std::atomic<bool> once2{false};
  b->register_stream_handler("endless2",
                             [&](const node_id&, std::string, stream_writer& out) -> result<void> {
                               result<void> r = ok();
                               while (r) r = out.write(std::string(32 * 1024, 'e'));
                               if (!once2.exchange(true)) ended2.set_value(r);
                               return r;
                             });
  o.timeout = 30s;
  auto r2 = a->open_stream(b->self(), "endless2", "", o);
  ASSERT_TRUE(r2->read());
  r2.reset();
  auto f2 = ended2.get_future();
  ASSERT_EQ(f2.wait_for(5s), std::future_status::ready) << "the writer is still blocked";
  EXPECT_FALSE(f2.get());
  // The connection still works.
  auto again = a->call(b->self(), "plain", "ok");
  ASSERT_TRUE(again) << again.error().to_string();
}

TEST_F(stream_pair, UploadTimeoutFailsTheHandlersRead) {
  std::promise<result<uint64_t>> ended;
  b->register_upload_handler(
      "slow_count", [&](const node_id&, std::string, stream_reader& in) -> result<std::string> {
        auto r = read_pattern(in);
        ended.set_value(r);
        if (!r) return r.error();
        return std::to_string(*r);
      });
  call_options o;
  o.timeout = 400ms;
  auto up = a->open_upload(b->self(), "slow_count", "h", o);
  ASSERT_TRUE(up->write(pattern_piece(0, 1000)));
  // The caller stalls: the call times out and the handler's read fails.
  auto f = ended.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready) << "the reader is still blocked";
  EXPECT_FALSE(f.get());
  auto fin = up->finish();
  ASSERT_FALSE(fin);
  EXPECT_EQ(fin.error().code, errc::timeout);
}

TEST_F(stream_pair, ConnectionDropUnblocksTheWriter) {
  std::promise<result<void>> ended;
  std::atomic<bool> once{false};
  std::atomic<bool> started{false};
  b->register_stream_handler("endless",
                             [&](const node_id&, std::string, stream_writer& out) -> result<void> {
                               started = true;
                               result<void> r = ok();
                               while (r) r = out.write(std::string(32 * 1024, 'e'));
                               if (!once.exchange(true)) ended.set_value(r);
                               return r;
                             });
  call_options o;
  o.timeout = 30s;
  auto reader = a->open_stream(b->self(), "endless", "", o);
  ASSERT_TRUE(wait_until([&] { return started.load(); }));
  std::this_thread::sleep_for(200ms);
  a->stop();  // the caller's node goes away
  auto f = ended.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready) << "the writer is still blocked";
  auto r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable);
  result<std::optional<std::string>> last = std::optional<std::string>();
  do {
    last = reader->read();
  } while (last && *last);
  ASSERT_FALSE(last);
  EXPECT_EQ(last.error().code, errc::unavailable);
}

TEST_F(stream_pair, HighPriorityCallOvertakesBackgroundStream) {
  b->register_handler("meta", [](const node_id&, std::string) -> result<std::string> {
    return std::string("meta");
  });
  std::mutex mu;
  std::vector<std::string> order;
  call_options bg;
  bg.prio = priority::background;
  bg.timeout = 60s;
  std::atomic<bool> streaming{false};
  std::thread bulk([&] {
    auto r =
        a->call_stream(b->self(), "pattern", std::to_string(48 << 20), bg, [&](std::string_view) {
          streaming = true;
          return ok();
        });
    EXPECT_TRUE(r) << r.error().to_string();
    std::lock_guard l(mu);
    order.push_back("bulk");
  });
  ASSERT_TRUE(wait_until([&] { return streaming.load(); }));
  call_options hi;
  hi.prio = priority::high;
  auto m = a->call(b->self(), "meta", "", hi);
  ASSERT_TRUE(m) << m.error().to_string();
  {
    std::lock_guard l(mu);
    order.push_back("meta");
  }
  // And an upload at background priority does not hold a normal call back.
  std::thread bulk_up([&] {
    auto r = upload_pattern(*a, b->self(), "count", 48 << 20, bg);
    EXPECT_TRUE(r) << r.error().to_string();
  });
  std::this_thread::sleep_for(50ms);
  auto m2 = a->call(b->self(), "meta", "");
  ASSERT_TRUE(m2) << m2.error().to_string();
  {
    std::lock_guard l(mu);
    order.push_back("meta2");
  }
  bulk.join();
  bulk_up.join();
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0], "meta");
}

node_id nid(uint8_t b) {
  node_id n{};
  n.bytes[0] = b;
  return n;
}

TEST(local_net_stream, StreamsBetweenNodesAndToSelf) {
  local_net net;
  auto& a = net.add(nid(1));
  auto& b = net.add(nid(2));
  register_endpoints(a);
  register_endpoints(b);
  check_basic_streams(a, nid(2));
  check_basic_streams(a, nid(1));
  net.set_up(nid(2), false);
  auto down = a.call_stream(nid(2), "pattern", "10", {}, [](std::string_view) { return ok(); });
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, errc::unavailable);
  auto up = upload_pattern(a, nid(2), "count", 10);
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().code, errc::unavailable);
}

TEST(local_net_stream, TimeoutUnblocksTheWriter) {
  local_net net;
  auto& a = net.add(nid(1));
  std::promise<result<void>> ended;
  net.add(nid(2)).register_stream_handler(
      "endless", [&](const node_id&, std::string, stream_writer& out) -> result<void> {
        result<void> r = ok();
        while (r) r = out.write(std::string(32 * 1024, 'e'));
        ended.set_value(r);
        return r;
      });
  auto reader = a.open_stream(nid(2), "endless", "", {priority::normal, 300ms});
  ASSERT_TRUE(reader->read());
  auto f = ended.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(f.get());
}

}  // namespace
}  // namespace garage::rpc
