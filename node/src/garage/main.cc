// The `garage` binary: `garage server` runs a node; every other command is
// the admin command line, talking to a node's admin API.
#include <iostream>
#include <string>
#include <vector>

#include "api/admin/version.h"
#include "garage/cli.h"
#include "garage/cli_args.h"
#include "garage/server.h"

int main(int argc, char** argv) {
  using namespace garage;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto cmd = cli::parse_command_line(args);
  if (!cmd) {
    std::cerr << "garage: " << cmd.error().message << "\n\n"
              << cli::command_usage(cli::guess_command(args));
    return 2;
  }
  if (cmd->opts.version && cmd->name.empty()) {
    std::cout << "garage " << garage_version << "\n";
    return 0;
  }
  if (cmd->name.empty() || cmd->name == "help") {
    std::cout << cli::usage_text();
    return 0;
  }
  if (cmd->opts.help) {
    std::cout << cli::command_usage(cmd->name);
    return 0;
  }
  if (cmd->name == "server") return run_server(cmd->opts);
  return cli::run_cli(*cmd);
}
