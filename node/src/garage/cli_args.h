// Command-line parsing of the `garage` binary: global options, the command
// (one or two words: "server", "status", "key create", "bucket allow"...), its
// positional arguments and flags. Pure; see docs/cli.md.
//
//   auto cmd = parse_command_line({"-c", "g.yaml", "key", "info", "GK1", "--show-secret"});
//   // cmd->name == "key info", cmd->args == {"GK1"}, cmd->opts.show_secret
//
// Options may come before or after the command words; "--opt=value" works
// too, and "--" ends the options. A usage error (unknown command or option,
// a missing value, a flag the command does not take, too few or too many
// arguments) is an invalid_argument error whose message is one line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace garage::cli {

struct options {
  // Global.
  std::optional<std::string> config_path;  // -c, --config
  std::optional<std::string> admin_addr;   // --admin-addr HOST:PORT
  std::optional<std::string> admin_token;  // --admin-token TOKEN
  bool json = false;                       // --json
  bool help = false;                       // -h, --help
  bool version = false;                    // -V, --version
  // garage server.
  std::optional<std::string> default_config_dir;  // --default-config DIR
  std::optional<std::string> s3_bind;             // --s3-api-bind-addr HOST:PORT
  std::optional<std::string> admin_bind;          // --admin-api-bind-addr HOST:PORT
  std::optional<std::string> web_bind;            // --web-bind-addr HOST:PORT
  // Commands.
  bool show_secret = false;                // key info --show-secret
  bool yes = false;                        // key delete / bucket delete --yes
  bool create_bucket = false;              // key allow|deny --create-bucket
  bool read = false;                       // bucket allow|deny --read
  bool write = false;                      // --write
  bool owner = false;                      // --owner
  std::optional<std::string> key;          // bucket allow|deny --key KEY
  std::optional<std::string> local;        // bucket alias|unalias --local KEY
  std::optional<std::string> max_size;     // bucket set-quotas --max-size SIZE|none
  std::optional<std::string> max_objects;  // bucket set-quotas --max-objects N|none
  std::optional<std::string> name;         // key import -n NAME
  // garage layout assign | apply | config.
  std::optional<std::string> zone;            // -z ZONE
  std::optional<std::string> capacity;        // -c SIZE (only after `layout assign`)
  bool gateway = false;                       // -g
  std::vector<std::string> tags;              // -t TAG, repeatable
  std::optional<std::string> layout_version;  // --version N (after `layout apply|skip-dead-nodes`)
  bool allow_missing_data = false;            // layout skip-dead-nodes --allow-missing-data
  std::optional<std::string> redundancy;      // -r N|maximum
  // garage worker list.
  bool busy = false;    // --busy: busy workers only
  bool errors = false;  // --errors: workers that have failed at least once
};

struct command {
  std::string name;  // "" when only --help / --version was given
  std::vector<std::string> args;
  options opts;
};

result<command> parse_command_line(const std::vector<std::string>& argv);

// The usage of every command (for --help and usage errors).
std::string usage_text();
// The command words of a command line that did not parse ("key delete"), to
// show that command's usage; empty when there are none.
std::string guess_command(const std::vector<std::string>& argv);
// One command's synopsis line, e.g. "garage key info KEY [--show-secret]"; the
// whole usage when `name` is no command.
std::string command_usage(std::string_view name);

}  // namespace garage::cli
