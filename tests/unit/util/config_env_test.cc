// util/config: environment overrides (GARAGE_RPC_SECRET, GARAGE_ADMIN_TOKEN,
// GARAGE_*_BIND_ADDR, ...) win over the file, and a bad value names the variable.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "util/config.h"

namespace garage {
namespace {

const std::string base =
    "metadata_dir: /m\n"
    "data_dir: /d\n"
    "admin:\n"
    "  admin_token: file-token\n";

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

result<config> parse(const std::string& yaml, std::map<std::string, std::string> vars) {
  return parse_config(yaml, "env.yaml", env_of(std::move(vars)));
}

void expect_error_naming(const result<config>& r, const std::string& needle) {
  ASSERT_FALSE(r) << "expected an error naming " << needle;
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

const std::string secret(64, 'b');

TEST(config_env, addresses_win_over_the_file) {
  auto r = parse(base +
                     "rpc_bind_addr: 0.0.0.0:3901\n"
                     "s3_api:\n"
                     "  api_bind_addr: 0.0.0.0:3900\n",
                 {{"GARAGE_RPC_BIND_ADDR", "127.10.0.2:3901"},
                  {"GARAGE_RPC_PUBLIC_ADDR", "127.10.0.2:3901"},
                  {"GARAGE_S3_API_BIND_ADDR", "127.10.0.2:3900"},
                  {"GARAGE_ADMIN_API_BIND_ADDR", "127.10.0.2:3903"},
                  {"GARAGE_S3_WEB_BIND_ADDR", "[::1]:3902"}});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->rpc_bind_addr, "127.10.0.2:3901");
  EXPECT_EQ(r->rpc_public_addr, "127.10.0.2:3901");
  EXPECT_EQ(r->s3_api.api_bind_addr, "127.10.0.2:3900");
  EXPECT_EQ(r->admin.api_bind_addr, "127.10.0.2:3903");
  // The web endpoint is enabled by the variable, with the section's defaults.
  ASSERT_TRUE(r->s3_web.has_value());
  EXPECT_EQ(r->s3_web->bind_addr, "[::1]:3902");
  EXPECT_EQ(r->s3_web->index, "index.html");
}

TEST(config_env, web_section_of_the_file_keeps_its_other_options) {
  auto r = parse(base +
                     "s3_web:\n"
                     "  bind_addr: 0.0.0.0:3902\n"
                     "  root_domain: .web.local\n",
                 {{"GARAGE_S3_WEB_BIND_ADDR", "127.10.0.3:3902"}});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->s3_web->bind_addr, "127.10.0.3:3902");
  EXPECT_EQ(r->s3_web->root_domain, ".web.local");
}

TEST(config_env, unset_or_empty_variables_change_nothing) {
  auto r = parse(base + "rpc_bind_addr: 10.0.0.1:3901\n",
                 {{"GARAGE_RPC_BIND_ADDR", ""}, {"GARAGE_ADMIN_TOKEN", ""}});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->rpc_bind_addr, "10.0.0.1:3901");
  EXPECT_EQ(r->admin.admin_token, "file-token");
  EXPECT_FALSE(r->s3_web.has_value());
  // No lookup at all: the file alone.
  auto plain = parse_config(base, "env.yaml");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->admin.admin_token, "file-token");
}

TEST(config_env, bad_addresses_name_the_variable) {
  for (const char* var :
       {"GARAGE_RPC_BIND_ADDR", "GARAGE_RPC_PUBLIC_ADDR", "GARAGE_S3_API_BIND_ADDR",
        "GARAGE_ADMIN_API_BIND_ADDR", "GARAGE_S3_WEB_BIND_ADDR"}) {
    for (const char* value : {"127.0.0.1", ":3900", "127.0.0.1:99999", "$(POD_IP):3900x"}) {
      auto r = parse(base, {{var, value}});
      expect_error_naming(r, std::string("environment variable ") + var);
      if (!r) {
        EXPECT_NE(r.error().message.find(value), std::string::npos) << r.error().message;
      }
    }
  }
}

TEST(config_env, secrets_replace_the_value_and_the_file_of_the_configuration) {
  auto r = parse(
      "metadata_dir: /m\n"
      "data_dir: /d\n"
      "rpc_secret_file: /etc/garage/rpc_secret\n"
      "admin:\n"
      "  admin_token_file: /etc/garage/admin_token\n"
      "  metrics_token: file-metrics\n",
      {{"GARAGE_RPC_SECRET", secret},
       {"GARAGE_ADMIN_TOKEN", "env-token"},
       {"GARAGE_METRICS_TOKEN", "env-metrics"}});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->rpc_secret, secret);
  EXPECT_TRUE(r->rpc_secret_file.empty());
  EXPECT_EQ(r->admin.admin_token, "env-token");
  EXPECT_TRUE(r->admin.admin_token_file.empty());
  EXPECT_EQ(r->admin.metrics_token, "env-metrics");

  r = parse(base + "rpc_secret: " + secret + "\n", {{"GARAGE_RPC_SECRET_FILE", "/run/s/rpc"},
                                                    {"GARAGE_ADMIN_TOKEN_FILE", "/run/s/admin"}});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->rpc_secret.empty());
  EXPECT_EQ(r->rpc_secret_file, "/run/s/rpc");
  EXPECT_TRUE(r->admin.admin_token.empty());
  EXPECT_EQ(r->admin.admin_token_file, "/run/s/admin");
}

TEST(config_env, a_file_may_leave_its_admin_token_to_the_environment) {
  const std::string no_token = "metadata_dir: /m\ndata_dir: /d\n";
  expect_error_naming(parse(no_token, {}), "admin.admin_token");
  auto r = parse(no_token, {{"GARAGE_ADMIN_TOKEN", "env-token"}});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->admin.admin_token, "env-token");
}

TEST(config_env, bad_secrets_name_the_variable) {
  expect_error_naming(parse(base, {{"GARAGE_RPC_SECRET", "not-hex"}}),
                      "environment variable GARAGE_RPC_SECRET");
  expect_error_naming(parse(base, {{"GARAGE_RPC_SECRET", secret + "00"}}),
                      "environment variable GARAGE_RPC_SECRET");
  auto both = parse(base, {{"GARAGE_ADMIN_TOKEN", "a"}, {"GARAGE_ADMIN_TOKEN_FILE", "/f"}});
  expect_error_naming(both, "GARAGE_ADMIN_TOKEN or GARAGE_ADMIN_TOKEN_FILE, not both");
  both = parse(base, {{"GARAGE_RPC_SECRET", secret}, {"GARAGE_RPC_SECRET_FILE", "/f"}});
  expect_error_naming(both, "GARAGE_RPC_SECRET or GARAGE_RPC_SECRET_FILE, not both");
}

TEST(config_env, load_config_file_reads_the_process_environment) {
  char dir[] = "/tmp/config_env_testXXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/garage.yaml";
  std::ofstream(path) << base;
  ::setenv("GARAGE_S3_API_BIND_ADDR", "127.10.9.9:3900", 1);
  auto r = load_config_file(path);
  ::setenv("GARAGE_S3_API_BIND_ADDR", "nonsense", 1);
  auto bad = load_config_file(path);
  ::unsetenv("GARAGE_S3_API_BIND_ADDR");
  auto plain = load_config_file(path);
  std::remove(path.c_str());
  ::rmdir(dir);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->s3_api.api_bind_addr, "127.10.9.9:3900");
  expect_error_naming(bad, "environment variable GARAGE_S3_API_BIND_ADDR");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->s3_api.api_bind_addr, "127.0.0.1:3900");
}

}  // namespace
}  // namespace garage
