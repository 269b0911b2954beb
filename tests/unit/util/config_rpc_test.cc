// util/config: the RPC options (rpc_bind_addr, rpc_public_addr, rpc_secret,
// rpc_secret_file, bootstrap_peers).
#include <gtest/gtest.h>

#include "util/config.h"

namespace garage {
namespace {

const std::string base =
    "metadata_dir: /m\n"
    "data_dir: /d\n"
    "admin:\n"
    "  admin_token: t\n";

result<config> parse(const std::string& extra) { return parse_config(base + extra, "rpc.yaml"); }

void expect_error_naming(const result<config>& r, const std::string& needle) {
  ASSERT_FALSE(r) << "expected an error naming " << needle;
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

const std::string id(64, 'a');

TEST(config_rpc, defaults) {
  auto r = parse("");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->rpc_bind_addr, "127.0.0.1:3901");
  EXPECT_TRUE(r->rpc_public_addr.empty());
  EXPECT_TRUE(r->rpc_secret.empty());
  EXPECT_TRUE(r->rpc_secret_file.empty());
  EXPECT_TRUE(r->bootstrap_peers.empty());
  EXPECT_EQ(default_config("/base").rpc_secret_file, "/base/rpc_secret");
}

TEST(config_rpc, all_options) {
  auto r = parse(
      "rpc_bind_addr: 0.0.0.0:4901\n"
      "rpc_public_addr: 10.0.0.1:4901\n"
      "rpc_secret: " +
      std::string(64, 'F') +
      "\n"
      "bootstrap_peers:\n"
      "  - " +
      id +
      "@10.0.0.2:3901\n"
      "  - " +
      id + "@[::1]:3901\n");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->rpc_bind_addr, "0.0.0.0:4901");
  EXPECT_EQ(r->rpc_public_addr, "10.0.0.1:4901");
  EXPECT_EQ(r->rpc_secret, std::string(64, 'F'));
  ASSERT_EQ(r->bootstrap_peers.size(), 2u);
  EXPECT_EQ(r->bootstrap_peers[1], id + "@[::1]:3901");
  auto f = parse("rpc_secret_file: /etc/garage/rpc_secret\nbootstrap_peers: []\n");
  ASSERT_TRUE(f) << f.error().to_string();
  EXPECT_EQ(f->rpc_secret_file, "/etc/garage/rpc_secret");
}

TEST(config_rpc, errors_name_the_option) {
  expect_error_naming(parse("rpc_bind_addr: nowhere\n"), "rpc_bind_addr");
  expect_error_naming(parse("rpc_public_addr: 10.0.0.1\n"), "rpc_public_addr");
  expect_error_naming(parse("rpc_secret: abc\n"), "rpc_secret");
  expect_error_naming(parse("rpc_secret: " + std::string(64, 'g') + "\n"), "rpc_secret");
  expect_error_naming(parse("rpc_secret: " + std::string(64, 'a') + "\nrpc_secret_file: /x\n"),
                      "rpc_secret_file");
  expect_error_naming(parse("bootstrap_peers: " + id + "@h:1\n"), "bootstrap_peers");
  expect_error_naming(parse("bootstrap_peers:\n  - h:1\n"), "bootstrap_peers");
  expect_error_naming(parse("bootstrap_peers:\n  - " + id + "@h\n"), "bootstrap_peers");
  expect_error_naming(parse("bootstrap_peers:\n  - " + id.substr(1) + "@h:1\n"), "bootstrap_peers");
  expect_error_naming(parse("bootstrap_peers:\n  - [a]\n"), "bootstrap_peers");
}

}  // namespace
}  // namespace garage
