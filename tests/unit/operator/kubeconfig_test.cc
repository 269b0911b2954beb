#include "k8s/kubeconfig.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "util/encoding.h"

namespace garage::k8s {
namespace {

namespace fs = std::filesystem;

class kubeconfig_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kubeconfig_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }

  fs::path dir_;
};

constexpr const char* ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

std::string two_contexts(const std::string& user_body) {
  return R"(apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: storage}
- name: prod
  context: {cluster: c2, user: u1}
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: )" +
         base64_encode(ca) + R"(
- name: c2
  cluster:
    server: https://prod.example:443
    insecure-skip-tls-verify: true
users:
- name: u1
  user:
)" + user_body;
}

TEST_F(kubeconfig_test, current_context_with_token_and_inline_ca) {
  auto c = load_kubeconfig({write("config", two_contexts("    token: sekret\n"))});
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->context, "dev");
  EXPECT_EQ(c->server, "https://10.0.0.1:6443");  // trailing slash dropped
  EXPECT_EQ(c->ca_pem, ca);
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->token, "sekret");
  EXPECT_EQ(c->default_namespace, "storage");
}

TEST_F(kubeconfig_test, named_context_overrides_current_and_namespace_defaults) {
  auto c = load_kubeconfig({write("config", two_contexts("    token: t\n"))}, "prod");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->server, "https://prod.example:443");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_TRUE(c->ca_pem.empty());
  EXPECT_EQ(c->default_namespace, "default");
}

TEST_F(kubeconfig_test, files_relative_to_the_kubeconfig) {
  write("kube/pki/ca.crt", ca);
  write("kube/pki/client.crt", "CERT");
  write("kube/pki/client.key", "KEY");
  write("kube/token", "tok\n");
  auto path = write("kube/config", R"(
current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://k:6443", certificate-authority: pki/ca.crt}}]
users:
- name: u
  user: {client-certificate: pki/client.crt, client-key: pki/client.key, tokenFile: token}
)");
  auto c = load_kubeconfig({path});
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->ca_pem, ca);
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_EQ(c->token_file, (dir_ / "kube/token").string());
}

TEST_F(kubeconfig_test, client_certificate_data) {
  auto c = load_kubeconfig(
      {write("config", two_contexts("    client-certificate-data: " + base64_encode("CERT") +
                                    "\n    client-key-data: " + base64_encode("KEY") + "\n"))});
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_TRUE(c->token.empty());
}

TEST_F(kubeconfig_test, several_files_merge_first_wins) {
  auto a = write("a", R"(
current-context: one
contexts: [{name: one, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://first:1"}}]
)");
  auto b = write("b", R"(
current-context: two
contexts: [{name: two, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://second:2"}}]
users: [{name: u, user: {token: from-b}}]
)");
  auto c = load_kubeconfig(split_kubeconfig_env(a + "::" + b));
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->context, "one");
  EXPECT_EQ(c->server, "https://first:1");
  EXPECT_EQ(c->token, "from-b");
  auto two = load_kubeconfig({a, b}, "two");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->server, "https://first:1");  // cluster "c" from the first file
}

TEST_F(kubeconfig_test, bad_files_give_errors_that_say_what) {
  struct bad {
    std::string text;
    errc code;
    std::string says;
  };
  std::vector<bad> cases = {
      {"a: [b", errc::invalid_argument, "not YAML"},
      {"- 1\n- 2\n", errc::invalid_argument, "not a map"},
      {"clusters: []\n", errc::invalid_argument, "no current-context"},
      {"current-context: x\n", errc::not_found, "no context 'x'"},
      {"current-context: x\ncontexts: [{name: x, context: {user: u}}]\n", errc::invalid_argument,
       "names no cluster"},
      {"current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n", errc::not_found,
       "cluster 'c', which is not defined"},
      {"current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
       "clusters: [{name: c, cluster: {}}]\n",
       errc::invalid_argument, "has no server"},
      {"current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
       "clusters: [{name: c, cluster: {server: ftp://x}}]\n",
       errc::invalid_argument, "not an http(s) URL"},
      {"current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
       "clusters: [{name: c, cluster: {server: 'https://x', certificate-authority-data: '!!'}}]\n",
       errc::invalid_argument, "not base64"},
      {"current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
       "clusters: [{name: c, cluster: {server: 'https://x', certificate-authority: nope.crt}}]\n",
       errc::io_error, "nope.crt"},
      {"current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
       "clusters: [{name: c, cluster: {server: 'https://x'}}]\n",
       errc::not_found, "user 'u', which is not defined"},
      {"current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
       "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
       "users: [{name: u, user: {exec: {command: aws}}}]\n",
       errc::not_implemented, "exec credential plugins"},
      {"current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
       "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
       "users: [{name: u, user: {client-certificate-data: Q0VSVA==}}]\n",
       errc::invalid_argument, "needs its key"},
      {"current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
       "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
       "users: [{name: u, user: {username: a, password: b}}]\n",
       errc::not_implemented, "basic authentication"},
      {"contexts: {x: 1}\n", errc::invalid_argument, "contexts is not a list"},
  };
  for (const auto& b : cases) {
    auto path = write("bad", b.text);
    auto c = load_kubeconfig({path});
    ASSERT_FALSE(c) << b.text;
    EXPECT_EQ(c.error().code, b.code) << b.text << " -> " << c.error().message;
    EXPECT_NE(c.error().message.find(b.says), std::string::npos)
        << b.text << " -> " << c.error().message;
    EXPECT_NE(c.error().message.find(path), std::string::npos) << c.error().message;
  }
  auto missing = load_kubeconfig({(dir_ / "none").string()});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::io_error);
}

TEST_F(kubeconfig_test, empty_file_is_an_empty_config) {
  auto c = load_kubeconfig({write("empty", "")});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("no current-context"), std::string::npos);
}

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST_F(kubeconfig_test, in_cluster_service_account) {
  auto sa = dir_ / "sa";
  write("sa/token", "sa-token\n");
  write("sa/ca.crt", ca);
  write("sa/namespace", "garage-system\n");
  auto c = load_in_cluster(
      env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}),
      sa.string());
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token_file, (sa / "token").string());
  EXPECT_TRUE(c->token.empty());  // read by the transport, as it rotates
  EXPECT_EQ(c->ca_pem, ca);
  EXPECT_EQ(c->default_namespace, "garage-system");

  auto v6 = load_in_cluster(
      env_of({{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}}),
      sa.string());
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->server, "https://[fd00::1]:6443");
}

TEST_F(kubeconfig_test, in_cluster_errors) {
  auto none = load_in_cluster(env_of({}), (dir_ / "sa").string());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, errc::not_found);
  auto no_token =
      load_in_cluster(env_of({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "1"}}),
                      (dir_ / "sa").string());
  ASSERT_FALSE(no_token);
  EXPECT_EQ(no_token.error().code, errc::io_error);
  EXPECT_NE(no_token.error().message.find("service account token"), std::string::npos);
}

TEST_F(kubeconfig_test, default_precedence) {
  write("sa/token", "t");
  write("sa/ca.crt", ca);
  auto explicit_path = write("explicit",
                             "current-context: e\ncontexts: [{name: e, context: {cluster: c}}]\n"
                             "clusters: [{name: c, cluster: {server: 'https://explicit'}}]\n");
  auto env_path = write("env",
                        "current-context: e\ncontexts: [{name: e, context: {cluster: c}}]\n"
                        "clusters: [{name: c, cluster: {server: 'https://env'}}]\n");
  write("home/.kube/config",
        "current-context: e\ncontexts: [{name: e, context: {cluster: c}}]\n"
        "clusters: [{name: c, cluster: {server: 'https://home'}}]\n");
  std::map<std::string, std::string> vars = {{"KUBECONFIG", env_path},
                                             {"KUBERNETES_SERVICE_HOST", "pod"},
                                             {"KUBERNETES_SERVICE_PORT", "443"},
                                             {"HOME", (dir_ / "home").string()}};
  auto sa = (dir_ / "sa").string();
  EXPECT_EQ(load_default(explicit_path, "", env_of(vars), sa)->server, "https://explicit");
  EXPECT_EQ(load_default("", "", env_of(vars), sa)->server, "https://env");
  vars.erase("KUBECONFIG");
  EXPECT_EQ(load_default("", "", env_of(vars), sa)->server, "https://pod:443");
  vars.erase("KUBERNETES_SERVICE_HOST");
  EXPECT_EQ(load_default("", "", env_of(vars), sa)->server, "https://home");
  vars["HOME"] = (dir_ / "nowhere").string();
  auto none = load_default("", "", env_of(vars), sa);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, errc::not_found);
}

TEST(kubeconfig, split_env) {
  EXPECT_EQ(split_kubeconfig_env("a:b::c:"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_kubeconfig_env("").empty());
}

}  // namespace
}  // namespace garage::k8s
