// Helpers shared by the rpc tests: temporary directories, nodes on loopback
// ports with short timers, waiting for a condition.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "rpc/network.h"

namespace garage::rpc::test {

class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rpc_test_XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    if (p) path_ = p;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline const std::string secret_a(32, 'a');
inline const std::string secret_b(32, 'b');

inline network_options test_options(const std::string& dir, const std::string& secret,
                                    uint16_t port = 0) {
  network_options o;
  o.metadata_dir = dir;
  o.bind_addr = "127.0.0.1:" + std::to_string(port);
  o.secret = secret;
  o.worker_threads = 4;
  o.handshake_timeout = std::chrono::milliseconds(3000);
  o.ping_interval = std::chrono::milliseconds(300);
  o.ping_timeout = std::chrono::milliseconds(1000);
  o.peer_exchange_interval = std::chrono::milliseconds(300);
  o.reconnect_min = std::chrono::milliseconds(100);
  o.reconnect_max = std::chrono::milliseconds(1000);
  return o;
}

inline std::unique_ptr<network> start_node(network_options o) {
  auto n = network::create(std::move(o));
  EXPECT_TRUE(n.has_value()) << (n ? "" : n.error().to_string());
  if (!n) return nullptr;
  auto r = (*n)->start();
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
  if (!r) return nullptr;
  return std::move(*n);
}

inline bool wait_until(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

inline std::string addr_of(const network& n) { return "127.0.0.1:" + std::to_string(n.port()); }

}  // namespace garage::rpc::test
