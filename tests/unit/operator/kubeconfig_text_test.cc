// parse_kubeconfig: a kubeconfig given as text (a Secret's key).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "k8s/kubeconfig.h"
#include "util/encoding.h"

namespace garage::k8s {
namespace {

namespace fs = std::filesystem;

std::string config(const std::string& cluster_extra, const std::string& user_body) {
  return R"(apiVersion: v1
kind: Config
current-context: site-b
contexts:
- name: site-b
  context: {cluster: b, user: op, namespace: storage}
- name: other
  context: {cluster: b, user: op}
clusters:
- name: b
  cluster:
    server: https://b.example:6443/
)" + cluster_extra +
         R"(users:
- name: op
  user:
)" + user_body;
}

TEST(parse_kubeconfig, inline_material) {
  std::string ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  auto c = parse_kubeconfig(
      config("    certificate-authority-data: " + base64_encode(ca) + "\n", "    token: abc\n"), "",
      "secret ns/site-b key kubeconfig");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server, "https://b.example:6443");
  EXPECT_EQ(c->ca_pem, ca);
  EXPECT_EQ(c->token, "abc");
  EXPECT_EQ(c->context, "site-b");
  EXPECT_EQ(c->default_namespace, "storage");
  EXPECT_EQ(c->source, "secret ns/site-b key kubeconfig");
  auto other = parse_kubeconfig(config("", "    token: abc\n"), "other", "s");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->default_namespace, "default");
}

TEST(parse_kubeconfig, relative_paths_are_refused_absolute_ones_read) {
  auto rel = parse_kubeconfig(config("    certificate-authority: ca.crt\n", "    token: abc\n"), "",
                              "secret ns/x key kubeconfig");
  ASSERT_FALSE(rel);
  EXPECT_EQ(rel.error().code, errc::invalid_argument);
  EXPECT_NE(rel.error().message.find("relative path"), std::string::npos) << rel.error().message;
  EXPECT_NE(rel.error().message.find("secret ns/x key kubeconfig"), std::string::npos);
  auto rel_token = parse_kubeconfig(config("", "    tokenFile: tok\n"), "", "s");
  ASSERT_FALSE(rel_token);
  EXPECT_NE(rel_token.error().message.find("tokenFile"), std::string::npos);

  auto dir = fs::temp_directory_path() / ("kubeconfig_text_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "tok") << "from-file\n";
  auto abs =
      parse_kubeconfig(config("", "    tokenFile: " + (dir / "tok").string() + "\n"), "", "s");
  fs::remove_all(dir);
  ASSERT_TRUE(abs) << abs.error().message;
  EXPECT_EQ(abs->token_file, (dir / "tok").string());
}

TEST(parse_kubeconfig, errors_name_the_source) {
  auto bad = parse_kubeconfig("a: [", "", "secret ns/y key kubeconfig");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("secret ns/y key kubeconfig"), std::string::npos);
  auto no_ctx = parse_kubeconfig(config("", "    token: t\n"), "nope", "s");
  ASSERT_FALSE(no_ctx);
  EXPECT_EQ(no_ctx.error().code, errc::not_found);
  auto exec = parse_kubeconfig(config("", "    exec: {command: aws}\n"), "", "s");
  ASSERT_FALSE(exec);
  EXPECT_EQ(exec.error().code, errc::not_implemented);
}

}  // namespace
}  // namespace garage::k8s
