#include "garage/node_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "util/random.h"

namespace garage::cli {
namespace {

class node_config_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("garage-cfg-" + random_hex(6));
    std::filesystem::create_directories(dir_);
    ::unsetenv("GARAGE_CONFIG");
  }
  void TearDown() override {
    ::unsetenv("GARAGE_CONFIG");
    std::filesystem::remove_all(dir_);
  }
  std::string write(const std::string& name, const std::string& text) {
    auto p = (dir_ / name).string();
    std::ofstream(p) << text;
    return p;
  }
  std::filesystem::path dir_;
};

TEST_F(node_config_test, default_configuration_lives_under_its_directory) {
  auto src = resolve_config(std::nullopt, (dir_ / "data/").string());
  ASSERT_TRUE(src.has_value()) << src.error().message;
  EXPECT_TRUE(src->is_default);
  EXPECT_EQ(src->cfg.metadata_dir, (dir_ / "data" / "meta").string());
  EXPECT_EQ(src->cfg.admin.admin_token_file, (dir_ / "data" / "admin_token").string());
  auto plain = resolve_config(std::nullopt, std::nullopt);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->cfg.data_dir, std::string(default_base_dir) + "/data");
}

TEST_F(node_config_test, a_file_from_the_option_or_the_environment) {
  std::string yaml = "metadata_dir: /m\ndata_dir: /d\nadmin:\n  admin_token: tok\n";
  auto path = write("g.yaml", yaml);
  auto src = resolve_config(path, std::nullopt);
  ASSERT_TRUE(src.has_value()) << src.error().message;
  EXPECT_FALSE(src->is_default);
  EXPECT_EQ(src->cfg.metadata_dir, "/m");
  EXPECT_EQ(*read_admin_token(src->cfg), "tok");
  ::setenv("GARAGE_CONFIG", path.c_str(), 1);
  src = resolve_config(std::nullopt, std::nullopt);
  ASSERT_TRUE(src.has_value());
  EXPECT_EQ(src->origin, path);
  // --default-config wins over the environment.
  src = resolve_config(std::nullopt, dir_.string());
  ASSERT_TRUE(src.has_value());
  EXPECT_TRUE(src->is_default);
}

TEST_F(node_config_test, an_unknown_key_is_an_error_naming_it) {
  auto path = write("bad.yaml",
                    "metadata_dir: /m\ndata_dir: /d\nadmin:\n  admin_token: t\nbogus_option: 1\n");
  auto src = resolve_config(path, std::nullopt);
  ASSERT_FALSE(src.has_value());
  EXPECT_NE(src.error().message.find("bogus_option"), std::string::npos) << src.error().message;
  EXPECT_FALSE(resolve_config((dir_ / "missing.yaml").string(), std::nullopt).has_value());
}

TEST_F(node_config_test, token_file_is_created_once_private_and_trimmed_on_read) {
  config cfg = default_config((dir_ / "node").string());
  auto missing = read_admin_token(cfg);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, errc::not_found);
  auto t1 = ensure_admin_token(cfg);
  ASSERT_TRUE(t1.has_value()) << t1.error().message;
  EXPECT_EQ(t1->size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat(cfg.admin.admin_token_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto t2 = ensure_admin_token(cfg);
  EXPECT_EQ(*t2, *t1);
  EXPECT_EQ(*read_admin_token(cfg), *t1);
  std::ofstream(cfg.admin.admin_token_file) << "  spaced-token \n";
  EXPECT_EQ(*read_admin_token(cfg), "spaced-token");
  std::ofstream(cfg.admin.admin_token_file) << "\n";
  EXPECT_FALSE(read_admin_token(cfg).has_value());
}

TEST_F(node_config_test, connect_address_of_wildcard_binds) {
  EXPECT_EQ(connect_address("0.0.0.0:3903"), "127.0.0.1:3903");
  EXPECT_EQ(connect_address("[::]:3903"), "[::1]:3903");
  EXPECT_EQ(connect_address("10.1.2.3:3903"), "10.1.2.3:3903");
  EXPECT_EQ(connect_address("localhost:1"), "localhost:1");
}

}  // namespace
}  // namespace garage::cli

namespace garage::cli {
namespace {

TEST(rpc_secret, from_the_option_a_file_or_generated) {
  auto dir = std::filesystem::temp_directory_path() / ("garage-rpc-" + random_hex(6));
  std::filesystem::create_directories(dir);
  config c = default_config(dir.string());
  c.rpc_secret_file.clear();
  c.rpc_secret = std::string(64, 'a');
  auto s = resolve_rpc_secret(c, false);
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(*s, std::string(32, '\xaa'));
  // A configured file must exist unless `create`.
  c.rpc_secret.clear();
  c.rpc_secret_file = (dir / "secret").string();
  auto missing = resolve_rpc_secret(c, false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
  auto made = resolve_rpc_secret(c, true);
  ASSERT_TRUE(made) << made.error().to_string();
  EXPECT_EQ(made->size(), 32u);
  struct stat st {};
  ASSERT_EQ(::stat(c.rpc_secret_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = resolve_rpc_secret(c, false);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *made);
  // Neither: generated once in the metadata directory.
  c.rpc_secret_file.clear();
  auto gen = resolve_rpc_secret(c, false);
  ASSERT_TRUE(gen) << gen.error().to_string();
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(c.metadata_dir) / "rpc_secret"));
  EXPECT_EQ(*resolve_rpc_secret(c, false), *gen);
  // A file with something else than 64 hex digits.
  std::ofstream(dir / "bad") << "not hex\n";
  c.rpc_secret_file = (dir / "bad").string();
  auto bad = resolve_rpc_secret(c, false);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::invalid_argument);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace garage::cli
