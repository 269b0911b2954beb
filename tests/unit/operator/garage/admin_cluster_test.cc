// admin_client and the planning and sync helpers against three real
// `garage server` processes (replication factor 3, zones a, b, c) on
// 127.0.0.1, driven only through the admin API (and one S3 PUT with curl).
// $GARAGE_BIN names the binary (CMake sets it); skipped when unset.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "garage/admin_client.h"
#include "garage/layout_plan.h"
#include "garage/sync_bucket.h"
#include "garage/sync_key.h"

namespace garage::op::admin {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

const char* kToken = "operator-admin-token";
const char* kSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Polls pred every 100 ms until it holds or the time is up.
bool eventually(std::chrono::milliseconds limit, const std::function<bool()>& pred) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return pred();
}

struct node_proc {
  fs::path dir;
  int s3_port = 0, admin_port = 0, rpc_port = 0;
  pid_t pid = -1;

  std::string admin_url() const { return "http://127.0.0.1:" + std::to_string(admin_port); }

  void write_config() {
    fs::create_directories(dir);
    std::ofstream f(dir / "garage.yaml");
    f << "metadata_dir: \"" << (dir / "meta").string() << "\"\n"
      << "data_dir: \"" << (dir / "data").string() << "\"\n"
      << "metadata_fsync: false\ndata_fsync: false\n"
      << "replication_factor: 3\n"
      << "rpc_secret: \"" << kSecret << "\"\n"
      << "rpc_bind_addr: \"127.0.0.1:" << rpc_port << "\"\n"
      << "rpc_public_addr: \"127.0.0.1:" << rpc_port << "\"\n"
      << "s3_api:\n  api_bind_addr: \"127.0.0.1:" << s3_port << "\"\n  s3_region: \"garage\"\n"
      << "admin:\n  api_bind_addr: \"127.0.0.1:" << admin_port << "\"\n  admin_token: \"" << kToken
      << "\"\n  metrics_token: \"\"\n";
  }

  void start(const std::string& bin) {
    pid = ::fork();
    if (pid == 0) {
      ::setsid();
      int log = ::open((dir / "garage.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(log, 1);
      ::dup2(log, 2);
      int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
      std::string cfg = (dir / "garage.yaml").string();
      ::execl(bin.c_str(), bin.c_str(), "server", "-c", cfg.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }

  void stop() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) {
        pid = -1;
        return;
      }
      std::this_thread::sleep_for(100ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }

  std::string log_tail() const {
    std::ifstream f(dir / "garage.log");
    std::stringstream s;
    s << f.rdbuf();
    std::string t = s.str();
    return t.size() > 3000 ? t.substr(t.size() - 3000) : t;
  }
};

class AdminCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("GARAGE_BIN");
    if (!bin || !*bin) GTEST_SKIP() << "GARAGE_BIN is not set";
    bin_ = bin;
    if (!fs::exists(bin_)) GTEST_SKIP() << "GARAGE_BIN " << bin_ << " does not exist";
    char tmpl[] = "/tmp/garage-op-admin-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    for (int i = 0; i < 3; ++i) {
      node_proc n;
      n.dir = base_ / ("node" + std::to_string(i));
      n.s3_port = free_port();
      n.admin_port = free_port();
      n.rpc_port = free_port();
      n.write_config();
      n.start(bin_);
      nodes_.push_back(std::move(n));
    }
  }

  void TearDown() override {
    for (auto& n : nodes_) n.stop();
    if (HasFailure()) {
      for (auto& n : nodes_) std::cerr << "---- " << n.dir << "\n" << n.log_tail() << "\n";
      std::cerr << "node directories kept in " << base_ << "\n";
    } else if (!base_.empty()) {
      std::error_code ec;
      fs::remove_all(base_, ec);
    }
  }

  admin_client client(int i, const std::string& token = kToken) {
    return admin_client({nodes_[i].admin_url(), token}, 5s);
  }

  // The HTTP status of an unauthenticated GET to node i's admin port (0 when
  // curl cannot run or connect).
  int http_status(int i, const std::string& path) {
    std::string cmd = "curl -s -o /dev/null --max-time 10 -w '%{http_code}' '" +
                      nodes_[i].admin_url() + path + "'";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return 0;
    char buf[16] = {};
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    pclose(p);
    return n ? std::atoi(buf) : 0;
  }

  // curl with SigV4; its exit status (-1 when curl cannot run).
  int curl_s3(int node, const std::string& key_id, const std::string& secret,
              const std::vector<std::string>& args) {
    std::string cmd =
        "curl -sS --fail-with-body --max-time 20 -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "
        "--aws-sigv4 aws:amz:garage:s3 --user '" +
        key_id + ":" + secret + "'";
    for (const auto& a : args) cmd += " '" + a + "'";
    (void)node;
    cmd += " >> '" + (base_ / "curl.log").string() + "' 2>&1";
    int rc = std::system(cmd.c_str());
    return rc == -1 ? -1 : WEXITSTATUS(rc);
  }

  std::string bin_;
  fs::path base_;
  std::vector<node_proc> nodes_;
};

TEST_F(AdminCluster, FromNodeIdsToBucketsAndKeys) {
  auto t0 = std::chrono::steady_clock::now();
  // 1. Every node answers node_info once up.
  std::vector<node_info> info(3);
  for (int i = 0; i < 3; ++i) {
    auto c = client(i);
    ASSERT_TRUE(eventually(20s,
                           [&] {
                             auto r = c.node_info();
                             if (r) info[i] = *r;
                             return r.has_value();
                           }))
        << "node " << i << " never answered\n"
        << nodes_[i].log_tail();
    EXPECT_EQ(info[i].id.size(), 64u);
    EXPECT_FALSE(info[i].hostname.empty());
    EXPECT_FALSE(info[i].version.empty());
    EXPECT_EQ(info[i].rpc_addr, "127.0.0.1:" + std::to_string(nodes_[i].rpc_port));
    EXPECT_FALSE(info[i].zone.has_value());  // no layout yet
  }
  EXPECT_NE(info[0].id, info[1].id);

  // 2. Connect node 0 to the others (and a bogus peer, which fails alone).
  auto c0 = client(0);
  std::vector<std::string> peers;
  for (int i = 1; i < 3; ++i) peers.push_back(info[i].id + "@" + info[i].rpc_addr);
  peers.push_back(std::string(64, 'f') + "@127.0.0.1:" + std::to_string(free_port()));
  auto con = c0.connect(peers);
  ASSERT_TRUE(con) << con.error().to_string();
  ASSERT_EQ(con->size(), 3u);
  EXPECT_TRUE((*con)[0].ok) << (*con)[0].error;
  EXPECT_TRUE((*con)[1].ok) << (*con)[1].error;
  EXPECT_FALSE((*con)[2].ok);
  EXPECT_FALSE((*con)[2].error.empty());
  for (int i = 0; i < 3; ++i) {
    auto c = client(i);
    EXPECT_TRUE(eventually(20s,
                           [&] {
                             auto h = c.health();
                             return h && h->connected_nodes >= 3;
                           }))
        << "node " << i << " does not see the others";
  }

  // Connected but no layout yet: alive (/health), not ready to serve (/ready).
  EXPECT_EQ(http_status(0, "/health"), 200);
  EXPECT_EQ(http_status(0, "/ready"), 503);

  // 3. Layout: plan, check, stage, preview, apply.
  auto cur = c0.layout();
  ASSERT_TRUE(cur) << cur.error().to_string();
  EXPECT_EQ((*cur)["version"], 0);
  std::vector<desired_node> want;
  const char* zones[] = {"a", "b", "c"};
  for (int i = 0; i < 3; ++i) want.push_back({info[i].id, zones[i], 1000000000ULL, {"t"}});
  auto plan = plan_layout(*cur, want, {});
  ASSERT_EQ(plan.changes.size(), 3u);
  EXPECT_EQ(plan.summary, "add 1 node to zone a, 1 node to zone b, 1 node to zone c");
  auto feasible = check_feasible(want, 3, std::nullopt);
  ASSERT_TRUE(feasible) << feasible.error().to_string();
  // Dropping a zone would leave too few nodes for replication factor 3.
  EXPECT_FALSE(check_feasible({want[0], want[1]}, 3, std::nullopt));
  auto staged = c0.stage_roles(plan.changes);
  ASSERT_TRUE(staged) << staged.error().to_string();
  EXPECT_EQ((*staged)["stagedRoleChanges"].size(), 3u);
  // Staged roles count: planning again finds nothing to do.
  EXPECT_TRUE(plan_layout(*staged, want, {}).empty());
  auto pv = c0.preview();
  ASSERT_TRUE(pv) << pv.error().to_string();
  EXPECT_TRUE((*pv)["message"].is_array());
  auto bad_apply = c0.apply_layout(7);
  ASSERT_FALSE(bad_apply);
  EXPECT_EQ(bad_apply.error().code, errc::invalid_argument);
  auto applied = c0.apply_layout(1);
  ASSERT_TRUE(applied) << applied.error().to_string();
  EXPECT_EQ((*applied)["layout"]["version"], 1);
  for (int i = 0; i < 3; ++i) {
    auto c = client(i);
    cluster_health last;
    EXPECT_TRUE(eventually(30s,
                           [&] {
                             auto h = c.health();
                             if (h) last = *h;
                             return h && h->status == "healthy";
                           }))
        << "node " << i << ": " << last.status << " quorum " << last.partitions_quorum;
    EXPECT_EQ(last.storage_nodes, 3u);
    EXPECT_EQ(last.partitions_all_ok, 256u);
    EXPECT_EQ(http_status(i, "/ready"), 200) << "node " << i;
  }
  auto ni = client(1).node_info();
  ASSERT_TRUE(ni);
  EXPECT_EQ(ni->layout_version, 1u);
  EXPECT_EQ(ni->zone, "b");
  EXPECT_EQ(ni->capacity, 1000000000ULL);
  // Staging a removal and reverting leaves the layout as it was.
  ASSERT_TRUE(c0.stage_roles(plan_layout(*c0.layout(), {}, {info[2].id}).changes));
  ASSERT_TRUE(c0.revert_layout());
  EXPECT_TRUE((*c0.layout())["stagedRoleChanges"].empty());

  // 4. Buckets: idempotent ensure, then a quota and website change.
  bucket_spec spec{"photos", std::nullopt, std::nullopt, false, "index.html", ""};
  auto b1 = ensure_bucket(c0, spec);
  ASSERT_TRUE(b1) << b1.error().to_string();
  EXPECT_TRUE(b1->created);
  EXPECT_EQ(b1->id.size(), 64u);
  auto c1 = client(1);
  auto b2 = ensure_bucket(c1, spec);  // through another node
  ASSERT_TRUE(b2) << b2.error().to_string();
  EXPECT_EQ(b2->id, b1->id);
  EXPECT_FALSE(b2->created);
  EXPECT_FALSE(b2->updated);
  spec.max_size = 1000000;
  spec.max_objects = 10;
  spec.website = true;
  spec.error_document = "404.html";
  auto b3 = ensure_bucket(c0, spec);
  ASSERT_TRUE(b3) << b3.error().to_string();
  EXPECT_TRUE(b3->updated);
  auto b4 = ensure_bucket(c0, spec);
  ASSERT_TRUE(b4);
  EXPECT_FALSE(b4->updated);
  auto binfo = c0.call("GET", "/v2/GetBucketInfo?globalAlias=photos");
  ASSERT_TRUE(binfo);
  EXPECT_EQ((*binfo)["quotas"]["maxSize"], 1000000);
  EXPECT_EQ((*binfo)["quotas"]["maxObjects"], 10);
  EXPECT_EQ((*binfo)["websiteConfig"]["errorDocument"], "404.html");
  spec.max_objects.reset();
  auto b5 = ensure_bucket(c0, spec);
  ASSERT_TRUE(b5 && b5->updated);
  EXPECT_TRUE(
      (*c0.call("GET", "/v2/GetBucketInfo?globalAlias=photos"))["quotas"]["maxObjects"].is_null());
  auto bad_name = ensure_bucket(c0, bucket_spec{"Bad_Name!"});
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().code, errc::invalid_argument);
  ASSERT_TRUE(ensure_bucket(c0, bucket_spec{"logs"}));

  // 5. Keys: create with permissions, then change them.
  key_spec ks{"app", {{"photos", true, true, false}, {"logs", true, false, false}}};
  auto k1 = ensure_key(c0, std::nullopt, ks);
  ASSERT_TRUE(k1) << k1.error().to_string();
  EXPECT_TRUE(k1->created);
  EXPECT_EQ(k1->secret.size(), 64u);
  auto perms = [&](const std::string& key) {
    std::map<std::string, json> out;
    auto ki = c0.call("GET", "/v2/GetKeyInfo?id=" + key);
    EXPECT_TRUE(ki);
    if (!ki) return out;
    for (const auto& b : (*ki)["buckets"]) out[b["globalAliases"][0]] = b["permissions"];
    return out;
  };
  auto p1 = perms(k1->id);
  ASSERT_EQ(p1.size(), 2u);
  EXPECT_EQ(p1["photos"], (json{{"read", true}, {"write", true}, {"owner", false}}));
  EXPECT_EQ(p1["logs"], (json{{"read", true}, {"write", false}, {"owner", false}}));
  key_spec ks2{"app-renamed", {{"photos", true, false, true}}};
  auto k2 = ensure_key(c0, k1->id, ks2);
  ASSERT_TRUE(k2) << k2.error().to_string();
  EXPECT_FALSE(k2->created);
  EXPECT_EQ(k2->id, k1->id);
  EXPECT_EQ(k2->secret, k1->secret);
  auto p2 = perms(k1->id);
  ASSERT_EQ(p2.size(), 1u);
  EXPECT_EQ(p2["photos"], (json{{"read", true}, {"write", false}, {"owner", true}}));
  EXPECT_EQ((*c0.call("GET", "/v2/GetKeyInfo?id=" + k1->id))["name"], "app-renamed");
  auto missing = ensure_key(c0, k1->id, key_spec{"app", {{"no-such-bucket", true}}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
  EXPECT_NE(missing.error().message.find("no-such-bucket"), std::string::npos);
  // A stale id makes a new key.
  auto k3 = ensure_key(c0, std::string("GK000000000000000000000000"), key_spec{"other", {}});
  ASSERT_TRUE(k3) << k3.error().to_string();
  EXPECT_TRUE(k3->created);
  EXPECT_NE(k3->id, k1->id);
  ASSERT_TRUE(delete_key(c0, k3->id));
  ASSERT_TRUE(delete_key(c0, k3->id));  // absent: fine

  // 6. A bucket with an object cannot be deleted; empty, it can.
  ASSERT_TRUE(ensure_key(c0, k1->id, key_spec{"app", {{"photos", true, true, true}}}));
  std::string s3 = "http://127.0.0.1:" + std::to_string(nodes_[0].s3_port);
  std::ofstream(base_ / "object.txt") << "hello from the operator test\n";
  int put = curl_s3(0, k1->id, k1->secret,
                    {"-T", (base_ / "object.txt").string(), s3 + "/photos/hello.txt"});
  if (put != 0) {
    ADD_FAILURE() << "curl PUT failed (rc " << put
                  << "); the non-empty case needs curl with --aws-sigv4";
  } else {
    result<bool> del = error(errc::internal, "not tried");
    EXPECT_TRUE(eventually(10s, [&] {
      del = delete_bucket(c0, "photos");
      return !del && del.error().code == errc::conflict &&
             del.error().message.find("1 objects") != std::string::npos;
    })) << (del ? "deleted" : del.error().to_string());
    EXPECT_EQ(curl_s3(0, k1->id, k1->secret, {"-X", "DELETE", s3 + "/photos/hello.txt"}), 0);
  }
  EXPECT_TRUE(eventually(10s, [&] {
    auto d = delete_bucket(c0, "photos");
    return d && *d;
  }));
  auto gone = delete_bucket(c0, "photos");
  ASSERT_TRUE(gone);
  EXPECT_TRUE(*gone);

  // 7. Wrong token; a stopped node.
  auto wrong = client(0, "not-the-token").health();
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, errc::unauthenticated) << wrong.error().to_string();
  nodes_[2].stop();
  auto down = client(2).node_info();
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, errc::unavailable) << down.error().to_string();
  EXPECT_NE(down.error().message.find(nodes_[2].admin_url()), std::string::npos);
  EXPECT_TRUE(eventually(20s, [&] {
    auto h = c0.health();
    return h && h->status == "degraded";
  }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 60s);
}

}  // namespace
}  // namespace garage::op::admin
