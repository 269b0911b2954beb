// util/config: strict YAML parsing with defaults, sizes, and errors that name
// the offending option.
#include "util/config.h"

#include <gtest/gtest.h>

namespace garage {
namespace {

const std::string minimal =
    "metadata_dir: /var/lib/garage/meta\n"
    "data_dir: /var/lib/garage/data\n"
    "admin:\n"
    "  admin_token: secret\n";

result<config> parse(const std::string& extra) {
  return parse_config(minimal + extra, "test.yaml");
}

void expect_error_naming(const result<config>& r, const std::string& needle) {
  ASSERT_FALSE(r) << "expected an error naming " << needle;
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

TEST(config, defaults) {
  auto r = parse("");
  ASSERT_TRUE(r) << r.error().to_string();
  const config& c = *r;
  EXPECT_EQ(c.metadata_dir, "/var/lib/garage/meta");
  EXPECT_EQ(c.data_dir, "/var/lib/garage/data");
  EXPECT_FALSE(c.metadata_fsync);
  EXPECT_FALSE(c.data_fsync);
  EXPECT_EQ(c.block_size, 1u << 20);
  EXPECT_EQ(c.compression_level, 1);
  EXPECT_EQ(c.replication_factor, 1u);
  EXPECT_EQ(c.inline_threshold, 3072u);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.s3_api.api_bind_addr, "127.0.0.1:3900");
  EXPECT_EQ(c.s3_api.s3_region, "garage");
  EXPECT_EQ(c.admin.api_bind_addr, "127.0.0.1:3903");
  EXPECT_EQ(c.admin.admin_token, "secret");
}

TEST(config, values_and_sizes) {
  auto r = parse(
      "metadata_fsync: true\n"
      "block_size: 4M\n"
      "inline_threshold: 2KiB\n"
      "compression_level: 0\n"
      "s3_api:\n"
      "  s3_region: eu-west\n"
      "  root_domain: .s3.local\n");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->metadata_fsync);
  EXPECT_EQ(r->block_size, 4u << 20);
  EXPECT_EQ(r->inline_threshold, 2048u);
  EXPECT_EQ(r->compression_level, 0);
  EXPECT_EQ(r->s3_api.s3_region, "eu-west");
  EXPECT_EQ(r->s3_api.root_domain, ".s3.local");
}

TEST(config, parse_size) {
  EXPECT_EQ(parse_size("1048576"), 1048576u);
  EXPECT_EQ(parse_size("1M"), 1u << 20);
  EXPECT_EQ(parse_size("1MiB"), 1u << 20);
  EXPECT_EQ(parse_size("1MB"), 1000000u);
  EXPECT_EQ(parse_size("512K"), 512u << 10);
  EXPECT_EQ(parse_size("4 GB"), 4000000000u);
  EXPECT_EQ(parse_size("2g"), 2ull << 30);
  EXPECT_EQ(parse_size(""), std::nullopt);
  EXPECT_EQ(parse_size("M"), std::nullopt);
  EXPECT_EQ(parse_size("12Q"), std::nullopt);
  EXPECT_EQ(parse_size("-1"), std::nullopt);
  EXPECT_EQ(parse_size("99999999999T"), std::nullopt);  // overflows 64 bits
}

TEST(config, unknown_key_is_named) {
  expect_error_naming(parse("metadta_fsync: true\n"), "metadta_fsync");
  expect_error_naming(parse("s3_api:\n  regon: x\n"), "s3_api.regon");
}

TEST(config, bad_values_are_named) {
  expect_error_naming(parse("metadata_fsync: maybe\n"), "metadata_fsync");
  expect_error_naming(parse("block_size: lots\n"), "block_size");
  expect_error_naming(parse("block_size: 1K\n"), "block_size");  // below the minimum
  expect_error_naming(parse("compression_level: 99\n"), "compression_level");
  expect_error_naming(parse("log_level: loud\n"), "log_level");
  expect_error_naming(parse("s3_api:\n  api_bind_addr: nowhere\n"), "s3_api.api_bind_addr");
}

TEST(config, required_options) {
  expect_error_naming(parse_config("data_dir: /d\nadmin:\n  admin_token: t\n", "x"),
                      "metadata_dir");
  expect_error_naming(parse_config("metadata_dir: /m\ndata_dir: /d\n", "x"), "admin_token");
  auto r = parse_config("", "empty.yaml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("empty.yaml"), std::string::npos);
}

TEST(config, not_yaml) {
  auto r = parse_config("metadata_dir: [unclosed\n", "broken.yaml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("broken.yaml"), std::string::npos);
}

TEST(config, host_port) {
  auto a = parse_host_port("127.0.0.1:3900", "opt");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 3900);
  auto b = parse_host_port("[::1]:80", "opt");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 80);
  auto c = parse_host_port("host:99999", "my.option");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("my.option"), std::string::npos);
  EXPECT_FALSE(parse_host_port("noport", "opt"));
}

TEST(config, default_config_paths) {
  config c = default_config("/base");
  EXPECT_EQ(c.metadata_dir, "/base/meta");
  EXPECT_EQ(c.data_dir, "/base/data");
  EXPECT_EQ(c.admin.admin_token_file, "/base/admin_token");
}

}  // namespace
}  // namespace garage

// A key that is not a plain string used to throw out of parse_config.
TEST(config, complex_keys_are_errors_not_crashes) {
  auto r = garage::parse_config("? [a, b]\n: 1\n", "test.yaml");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("plain strings"), std::string::npos) << r.error().message;
  r = garage::parse_config("metadata_dir: [1, 2]\n", "test.yaml");
  ASSERT_FALSE(r.has_value());
}
