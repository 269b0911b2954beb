#include "garage/cli_args.h"

#include <gtest/gtest.h>

namespace garage::cli {
namespace {

command must_parse(std::vector<std::string> argv) {
  auto c = parse_command_line(argv);
  EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message);
  return c ? *c : command{};
}

std::string must_fail(std::vector<std::string> argv) {
  auto c = parse_command_line(argv);
  EXPECT_FALSE(c.has_value()) << "parsed as '" << (c ? c->name : "") << "'";
  if (c) return {};
  EXPECT_EQ(c.error().code, errc::invalid_argument);
  return c.error().message;
}

TEST(cli_args, one_and_two_word_commands_with_arguments) {
  auto c = must_parse({"status"});
  EXPECT_EQ(c.name, "status");
  EXPECT_TRUE(c.args.empty());
  c = must_parse({"key", "create", "alice"});
  EXPECT_EQ(c.name, "key create");
  EXPECT_EQ(c.args, std::vector<std::string>{"alice"});
  c = must_parse({"key", "create"});
  EXPECT_TRUE(c.args.empty());
  c = must_parse({"bucket", "alias", "photos", "pics"});
  EXPECT_EQ(c.name, "bucket alias");
  EXPECT_EQ(c.args, (std::vector<std::string>{"photos", "pics"}));
  c = must_parse({"key", "import", "GK1", "SECRET", "-n", "old"});
  EXPECT_EQ(c.name, "key import");
  EXPECT_EQ(c.opts.name, "old");
}

TEST(cli_args, global_options_anywhere_and_both_spellings) {
  auto c = must_parse({"-c", "/etc/garage.yaml", "key", "list", "--json"});
  EXPECT_EQ(c.opts.config_path, "/etc/garage.yaml");
  EXPECT_TRUE(c.opts.json);
  c = must_parse(
      {"key", "list", "--config=/x.yaml", "--admin-addr", "127.0.0.1:1", "--admin-token=t=t"});
  EXPECT_EQ(c.opts.config_path, "/x.yaml");
  EXPECT_EQ(c.opts.admin_addr, "127.0.0.1:1");
  EXPECT_EQ(c.opts.admin_token, "t=t");
}

TEST(cli_args, command_flags) {
  auto c = must_parse({"bucket", "allow", "--read", "--write", "photos", "--key", "alice"});
  EXPECT_EQ(c.name, "bucket allow");
  EXPECT_EQ(c.args, std::vector<std::string>{"photos"});
  EXPECT_TRUE(c.opts.read);
  EXPECT_TRUE(c.opts.write);
  EXPECT_FALSE(c.opts.owner);
  EXPECT_EQ(c.opts.key, "alice");
  c = must_parse({"key", "info", "GK1", "--show-secret"});
  EXPECT_TRUE(c.opts.show_secret);
  c = must_parse({"key", "allow", "--create-bucket", "alice"});
  EXPECT_TRUE(c.opts.create_bucket);
  c = must_parse({"bucket", "delete", "photos", "--yes"});
  EXPECT_TRUE(c.opts.yes);
  c = must_parse({"server", "--default-config", "/tmp/d", "--s3-api-bind-addr", "127.0.0.1:0"});
  EXPECT_EQ(c.opts.default_config_dir, "/tmp/d");
  EXPECT_EQ(c.opts.s3_bind, "127.0.0.1:0");
}

TEST(cli_args, double_dash_ends_options) {
  auto c = must_parse({"key", "rename", "GK1", "--", "--weird-name"});
  EXPECT_EQ(c.args, (std::vector<std::string>{"GK1", "--weird-name"}));
}

TEST(cli_args, usage_errors) {
  EXPECT_NE(must_fail({}).find("no command"), std::string::npos);
  EXPECT_NE(must_fail({"frobnicate"}).find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_NE(must_fail({"key", "explode"}).find("unknown command 'key explode'"), std::string::npos);
  must_fail({"key"});
  EXPECT_NE(must_fail({"key", "list", "--frob"}).find("unknown option --frob"), std::string::npos);
  EXPECT_NE(must_fail({"key", "info"}).find("missing argument"), std::string::npos);
  EXPECT_NE(must_fail({"key", "list", "extra"}).find("unexpected argument 'extra'"),
            std::string::npos);
  EXPECT_NE(must_fail({"key", "list", "--yes"}).find("takes no option --yes"), std::string::npos);
  EXPECT_NE(must_fail({"-c"}).find("needs a value"), std::string::npos);
  must_fail({"--json=1", "status"});
  must_fail({"key", "allow", "alice"});                        // no --create-bucket
  must_fail({"bucket", "allow", "photos", "--read"});          // no --key
  must_fail({"bucket", "allow", "photos", "--key", "alice"});  // no permission
  EXPECT_NE(must_fail({"key", "delete", "alice"}).find("--yes"), std::string::npos);
  must_fail({"bucket", "delete", "photos"});
  must_fail({"server", "-c", "a.yaml", "--default-config", "d"});
  must_fail({"status", "--default-config", "d"});
}

TEST(cli_args, help_and_version_without_a_command) {
  auto c = must_parse({"--help"});
  EXPECT_TRUE(c.opts.help);
  EXPECT_TRUE(c.name.empty());
  c = must_parse({"-V"});
  EXPECT_TRUE(c.opts.version);
  c = must_parse({"bucket", "allow", "--help"});  // help skips argument checks
  EXPECT_EQ(c.name, "bucket allow");
  EXPECT_TRUE(c.opts.help);
  c = must_parse({"key", "--help"});
  EXPECT_EQ(c.name, "key");
}

TEST(cli_args, usage_texts) {
  std::string all = usage_text();
  for (auto cmd : {"garage server", "garage status", "garage key create", "garage key import",
                   "garage bucket allow", "garage bucket unalias", "--admin-token", "--json"})
    EXPECT_NE(all.find(cmd), std::string::npos) << cmd;
  EXPECT_EQ(command_usage("key delete"), "usage: garage key delete KEY --yes\n");
  std::string keys = command_usage("key");
  EXPECT_NE(keys.find("garage key list"), std::string::npos);
  EXPECT_EQ(keys.find("garage bucket"), std::string::npos);
  EXPECT_EQ(command_usage("nonsense"), all);
  EXPECT_EQ(guess_command({"--admin-addr", "x:1", "key", "delete", "bob"}), "key delete");
  EXPECT_EQ(guess_command({"-c", "f", "status", "--json"}), "status");
  EXPECT_EQ(guess_command({"--json"}), "");
}

}  // namespace
}  // namespace garage::cli
