// The real node accepts the configuration files the operator writes: a file
// from config_map(), with the data directories moved to a temporary dir, run
// by $GARAGE_BIN (`garage server --config FILE`) with the environment the
// StatefulSet gives it (listeners on the "pod IP", secrets from files) until
// its /health answers 200. Skipped when GARAGE_BIN is not set.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cluster/objects.h"

extern char** environ;

namespace garage::op::cluster {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

int free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

// The status line of GET path on 127.0.0.1:port, or "" when nothing answers.
std::string http_get(int port, const std::string& path, const std::string& header = "") {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(s);
    return "";
  }
  std::string req =
      "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + header + "\r\n";
  if (write(s, req.data(), req.size()) < 0) {
    close(s);
    return "";
  }
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(s, buf, sizeof buf)) > 0) out.append(buf, n);
  close(s);
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size())
    s.replace(p, from.size(), to);
  return s;
}

struct node_run {
  pid_t pid = -1;
  ~node_run() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      int st;
      waitpid(pid, &st, 0);
    }
  }
};

TEST(NodeConfig, TheRealNodeStartsWithTheGeneratedFile) {
  const char* bin = std::getenv("GARAGE_BIN");
  if (!bin || !*bin) GTEST_SKIP() << "GARAGE_BIN not set";
  auto gcl = json::parse(R"({"metadata": {"name": "geo", "namespace": "storage"},
    "spec": {"zones": [{"name": "z1"}], "consistencyMode": "degraded",
             "s3Api": {"rootDomain": ".s3.example.com", "region": "eu"},
             "webApi": {"enabled": true, "rootDomain": ".web.example.com"}}})");
  auto c = parse_cluster(gcl);
  ASSERT_TRUE(c) << c.error().message;
  auto cm = config_map(*c, c->zones[0], 1, {{"geo-z1-0", "192.0.2.7:3901"}});
  std::string file = cm["data"]["geo-z1-0.yaml"];

  fs::path dir = fs::temp_directory_path() / ("cluster-node-config-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "secrets");
  file = replace_all(file, meta_dir, (dir / "meta").string());
  file = replace_all(file, data_dir, (dir / "data").string());
  std::ofstream(dir / "node.yaml") << file;
  std::ofstream(dir / "secrets" / rpc_secret_key) << random_hex(32) << "\n";
  std::ofstream(dir / "secrets" / admin_token_key) << "tok\n";

  // The environment of the StatefulSet's container, POD_IP = 127.0.0.1.
  auto sts = stateful_set(*c, c->zones[0], 1, config_hash(cm));
  int admin = free_port(), s3 = free_port(), rpc = free_port(), web = free_port();
  std::map<std::string, std::string> env;
  for (const auto& e : sts["spec"]["template"]["spec"]["containers"][0]["env"]) {
    if (!e.contains("value")) continue;
    std::string v = e["value"];
    v = replace_all(v, "$(POD_IP)", "127.0.0.1");
    v = replace_all(v, ":" + std::to_string(c->admin_port), ":" + std::to_string(admin));
    v = replace_all(v, ":" + std::to_string(c->s3_port), ":" + std::to_string(s3));
    v = replace_all(v, ":" + std::to_string(c->rpc_port), ":" + std::to_string(rpc));
    v = replace_all(v, ":" + std::to_string(c->web_port), ":" + std::to_string(web));
    v = replace_all(v, secrets_dir, (dir / "secrets").string());
    env[e["name"]] = v;
  }
  ASSERT_EQ(env.count("GARAGE_ADMIN_API_BIND_ADDR"), 1u);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string s = *e;
    if (s.rfind("GARAGE_", 0) != 0) env_strings.push_back(s);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::string config = (dir / "node.yaml").string();
  std::vector<std::string> args = {bin, "server", "--config", config};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  node_run run;
  ASSERT_EQ(posix_spawn(&run.pid, bin, nullptr, nullptr, argv.data(), envp.data()), 0);

  std::string answer;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int st;
    ASSERT_EQ(waitpid(run.pid, &st, WNOHANG), 0) << "garage exited: config refused\n" << file;
    answer = http_get(admin, "/health");
    if (answer.rfind("HTTP/1.1 200", 0) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  // The token came from its file: an admin call with it is accepted.
  EXPECT_EQ(http_get(admin, "/v2/GetClusterHealth", "Authorization: Bearer tok\r\n")
                .rfind("HTTP/1.1 200", 0),
            0u);
  EXPECT_EQ(http_get(admin, "/v2/GetClusterHealth", "Authorization: Bearer nope\r\n")
                .rfind("HTTP/1.1 401", 0),
            0u);
  EXPECT_NE(http_get(s3, "/").find("HTTP/1.1"), std::string::npos);   // S3 bound on its port
  EXPECT_NE(http_get(web, "/").find("HTTP/1.1"), std::string::npos);  // web enabled
  kill(run.pid, SIGTERM);
  int st;
  waitpid(run.pid, &st, 0);
  run.pid = -1;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace garage::op::cluster
