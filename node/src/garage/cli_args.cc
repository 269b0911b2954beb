#include "garage/cli_args.h"

#include <algorithm>
#include <array>
#include <functional>

namespace garage::cli {
namespace {

// A command: its words, how many positional arguments it takes, which
// command flags it accepts, and its synopsis.
struct command_spec {
  std::string_view name;
  size_t min_args;
  size_t max_args;
  std::string_view flags;  // space-separated flag names accepted
  std::string_view synopsis;
  std::string_view summary;
};

constexpr std::array kCommands = {
    command_spec{"server", 0, 0,
                 "default-config s3-api-bind-addr admin-api-bind-addr web-bind-addr",
                 "garage server [-c FILE | --default-config DIR] [--s3-api-bind-addr HOST:PORT] "
                 "[--admin-api-bind-addr HOST:PORT] [--web-bind-addr HOST:PORT]",
                 "run the node (S3 API, admin API, website endpoint)"},
    command_spec{"status", 0, 0, "", "garage status",
                 "show the nodes of the cluster (connected or down) and its health"},
    command_spec{"node id", 0, 0, "", "garage node id",
                 "print this node's identity as <node id>@<rpc address>"},
    command_spec{"node connect", 1, 1, "", "garage node connect <NODE ID>@<HOST:PORT>",
                 "connect this node to another one (it then joins its cluster)"},
    command_spec{"key create", 0, 1, "", "garage key create [NAME]",
                 "create an access key (prints its secret)"},
    command_spec{"key list", 0, 0, "", "garage key list", "list access keys"},
    command_spec{"key info", 1, 1, "show-secret", "garage key info KEY [--show-secret]",
                 "show a key (by id, id prefix or name) and its buckets"},
    command_spec{"key import", 2, 2, "name", "garage key import KEYID SECRET [-n NAME]",
                 "import an existing key id and secret"},
    command_spec{"key allow", 1, 1, "create-bucket", "garage key allow --create-bucket KEY",
                 "allow a key to create buckets"},
    command_spec{"key deny", 1, 1, "create-bucket", "garage key deny --create-bucket KEY",
                 "forbid a key to create buckets"},
    command_spec{"key rename", 2, 2, "", "garage key rename KEY NAME", "rename a key"},
    command_spec{"key delete", 1, 1, "yes", "garage key delete KEY --yes",
                 "delete a key and its permissions"},
    command_spec{"bucket create", 1, 1, "", "garage bucket create NAME", "create a bucket"},
    command_spec{"bucket list", 0, 0, "", "garage bucket list", "list buckets"},
    command_spec{"bucket info", 1, 1, "", "garage bucket info BUCKET",
                 "show a bucket (by name or id prefix): size, objects, keys"},
    command_spec{"bucket delete", 1, 1, "yes", "garage bucket delete BUCKET --yes",
                 "delete an empty bucket"},
    command_spec{"bucket alias", 2, 2, "local", "garage bucket alias [--local KEY] BUCKET NEWNAME",
                 "give a bucket another name (with --local: a name only KEY sees)"},
    command_spec{"bucket unalias", 1, 2, "local",
                 "garage bucket unalias [--local KEY] [BUCKET] NAME",
                 "remove a name of a bucket (not its last one)"},
    command_spec{"bucket set-quotas", 1, 1, "max-size max-objects",
                 "garage bucket set-quotas BUCKET [--max-size SIZE|none] [--max-objects N|none]",
                 "limit a bucket's total size and object count (none: no limit)"},
    command_spec{"bucket allow", 1, 1, "read write owner key",
                 "garage bucket allow [--read] [--write] [--owner] BUCKET --key KEY",
                 "grant a key permissions on a bucket"},
    command_spec{"bucket deny", 1, 1, "read write owner key",
                 "garage bucket deny [--read] [--write] [--owner] BUCKET --key KEY",
                 "revoke permissions of a key on a bucket"},
    command_spec{"layout show", 0, 0, "", "garage layout show",
                 "show the cluster layout, the staged changes and their effect"},
    command_spec{"layout assign", 1, 1, "zone capacity gateway tag",
                 "garage layout assign NODE [-z ZONE] [-c SIZE | -g] [-t TAG]...",
                 "stage a role for a node: its zone and capacity (or gateway) and tags"},
    command_spec{"layout remove", 1, 1, "", "garage layout remove NODE",
                 "stage the removal of a node's role"},
    command_spec{"layout config", 0, 0, "redundancy", "garage layout config -r N|maximum",
                 "stage the zone redundancy (zones each partition must span)"},
    command_spec{"layout apply", 0, 0, "layout-version", "garage layout apply --version N",
                 "compute and apply the staged changes as layout version N"},
    command_spec{"layout revert", 0, 0, "", "garage layout revert", "drop every staged change"},
    command_spec{"layout history", 0, 0, "", "garage layout history",
                 "list the live layout versions and the nodes' update trackers"},
    command_spec{"layout skip-dead-nodes", 0, 0, "layout-version allow-missing-data",
                 "garage layout skip-dead-nodes --version N [--allow-missing-data]",
                 "let old layout versions retire without the nodes that are down for good"},
    command_spec{"worker list", 0, 0, "busy errors", "garage worker list [--busy] [--errors]",
                 "list this node's background workers: state, tranquility, queue, errors"},
    command_spec{"worker info", 1, 1, "", "garage worker info WORKER",
                 "show one worker (by id or name): progress, errors, last error"},
    command_spec{"worker get", 0, 1, "", "garage worker get [VARIABLE]",
                 "show worker variables (<worker>-tranquility)"},
    command_spec{"worker set", 2, 3, "", "garage worker set WORKER tranquility N",
                 "throttle a worker: after each step, sleep N times its duration (0..1000)"},
    command_spec{"help", 0, 0, "", "garage help", "show this help"},
};

// Inside `layout assign`, -c is the capacity (as in Garage), not the
// configuration; inside `layout apply` and `layout skip-dead-nodes`, --version
// is the layout version.
std::string layout_option_alias(const std::vector<std::string>& words, const std::string& a) {
  bool layout = words.size() >= 2 && words[0] == "layout";
  if (layout && words[1] == "assign" && a == "-c") return "--capacity";
  if (layout && (words[1] == "apply" || words[1] == "skip-dead-nodes") &&
      (a == "--version" || a.starts_with("--version=")))
    return "--layout-version" + a.substr(9);
  return a;
}

const command_spec* find_spec(std::string_view name) {
  for (const auto& c : kCommands)
    if (c.name == name) return &c;
  return nullptr;
}

bool accepts(const command_spec& c, std::string_view flag) {
  std::string_view f = c.flags;
  while (!f.empty()) {
    auto sp = f.find(' ');
    if (f.substr(0, sp) == flag) return true;
    if (sp == std::string_view::npos) break;
    f.remove_prefix(sp + 1);
  }
  return false;
}

error usage(std::string msg) { return error(errc::invalid_argument, std::move(msg)); }

// One option of the table: its names, whether it is global, and where it goes.
struct option_spec {
  std::string_view long_name;   // without "--"
  std::string_view short_name;  // without "-", or empty
  bool global;
  bool takes_value;
  std::function<void(options&, std::string)> set;
};

const std::vector<option_spec>& option_table() {
  static const std::vector<option_spec> table = {
      {"config", "c", true, true, [](options& o, std::string v) { o.config_path = v; }},
      {"admin-addr", "", true, true, [](options& o, std::string v) { o.admin_addr = v; }},
      {"admin-token", "", true, true, [](options& o, std::string v) { o.admin_token = v; }},
      {"json", "", true, false, [](options& o, std::string) { o.json = true; }},
      {"help", "h", true, false, [](options& o, std::string) { o.help = true; }},
      {"version", "V", true, false, [](options& o, std::string) { o.version = true; }},
      {"default-config", "", false, true,
       [](options& o, std::string v) { o.default_config_dir = v; }},
      {"s3-api-bind-addr", "", false, true, [](options& o, std::string v) { o.s3_bind = v; }},
      {"admin-api-bind-addr", "", false, true, [](options& o, std::string v) { o.admin_bind = v; }},
      {"web-bind-addr", "", false, true, [](options& o, std::string v) { o.web_bind = v; }},
      {"show-secret", "", false, false, [](options& o, std::string) { o.show_secret = true; }},
      {"yes", "", false, false, [](options& o, std::string) { o.yes = true; }},
      {"create-bucket", "", false, false, [](options& o, std::string) { o.create_bucket = true; }},
      {"read", "", false, false, [](options& o, std::string) { o.read = true; }},
      {"write", "", false, false, [](options& o, std::string) { o.write = true; }},
      {"owner", "", false, false, [](options& o, std::string) { o.owner = true; }},
      {"key", "", false, true, [](options& o, std::string v) { o.key = v; }},
      {"local", "", false, true, [](options& o, std::string v) { o.local = v; }},
      {"max-size", "", false, true, [](options& o, std::string v) { o.max_size = v; }},
      {"max-objects", "", false, true, [](options& o, std::string v) { o.max_objects = v; }},
      {"name", "n", false, true, [](options& o, std::string v) { o.name = v; }},
      {"zone", "z", false, true, [](options& o, std::string v) { o.zone = v; }},
      {"capacity", "", false, true, [](options& o, std::string v) { o.capacity = v; }},
      {"gateway", "g", false, false, [](options& o, std::string) { o.gateway = true; }},
      {"tag", "t", false, true, [](options& o, std::string v) { o.tags.push_back(v); }},
      {"layout-version", "", false, true, [](options& o, std::string v) { o.layout_version = v; }},
      {"redundancy", "r", false, true, [](options& o, std::string v) { o.redundancy = v; }},
      {"allow-missing-data", "", false, false,
       [](options& o, std::string) { o.allow_missing_data = true; }},
      {"busy", "", false, false, [](options& o, std::string) { o.busy = true; }},
      {"errors", "", false, false, [](options& o, std::string) { o.errors = true; }},
  };
  return table;
}

}  // namespace

result<command> parse_command_line(const std::vector<std::string>& argv) {
  command cmd;
  std::vector<std::string> words;
  std::vector<std::string_view> used_flags;  // command flags given, to check per command
  bool options_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string a = layout_option_alias(words, argv[i]);
    if (options_done || a.size() < 2 || a[0] != '-') {
      words.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    std::string_view body = a;
    std::optional<std::string> inline_value;
    const option_spec* spec = nullptr;
    if (body.starts_with("--")) {
      body.remove_prefix(2);
      auto eq = body.find('=');
      if (eq != std::string_view::npos) {
        inline_value = std::string(body.substr(eq + 1));
        body = body.substr(0, eq);
      }
      for (const auto& o : option_table())
        if (o.long_name == body) spec = &o;
    } else {
      body.remove_prefix(1);
      for (const auto& o : option_table())
        if (!o.short_name.empty() && o.short_name == body) spec = &o;
    }
    if (!spec) return usage("unknown option " + a);
    std::string value;
    if (spec->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < argv.size()) {
        value = argv[++i];
      } else {
        return usage("option " + a + " needs a value");
      }
    } else if (inline_value) {
      return usage("option --" + std::string(spec->long_name) + " takes no value");
    }
    spec->set(cmd.opts, std::move(value));
    if (!spec->global) used_flags.push_back(spec->long_name);
  }

  if (words.empty()) {
    if (cmd.opts.help || cmd.opts.version) return cmd;
    return usage("no command given");
  }
  // Two-word commands first ("key create"), then one-word ones ("status").
  const command_spec* spec = nullptr;
  size_t consumed = 0;
  if (words.size() >= 2) {
    spec = find_spec(words[0] + " " + words[1]);
    consumed = 2;
  }
  if (!spec) {
    spec = find_spec(words[0]);
    consumed = 1;
  }
  if (!spec) {
    if (words[0] == "key" || words[0] == "bucket" || words[0] == "layout" || words[0] == "worker") {
      if (words.size() < 2) {
        if (cmd.opts.help) {
          cmd.name = words[0];
          return cmd;
        }
        return usage("'" + words[0] + "' needs a subcommand");
      }
      return usage("unknown command '" + words[0] + " " + words[1] + "'");
    }
    return usage("unknown command '" + words[0] + "'");
  }
  cmd.name = std::string(spec->name);
  cmd.args.assign(words.begin() + static_cast<std::ptrdiff_t>(consumed), words.end());
  if (cmd.opts.help) return cmd;
  for (auto f : used_flags) {
    if (!accepts(*spec, f)) return usage("'" + cmd.name + "' takes no option --" + std::string(f));
  }
  if (cmd.args.size() < spec->min_args) return usage("'" + cmd.name + "': missing argument");
  if (cmd.args.size() > spec->max_args)
    return usage("'" + cmd.name + "': unexpected argument '" + cmd.args[spec->max_args] + "'");
  if ((cmd.name == "key allow" || cmd.name == "key deny") && !cmd.opts.create_bucket)
    return usage("'" + cmd.name + "': give --create-bucket (the only key-wide permission)");
  if (cmd.name == "bucket allow" || cmd.name == "bucket deny") {
    if (!cmd.opts.key) return usage("'" + cmd.name + "': missing --key KEY");
    if (!cmd.opts.read && !cmd.opts.write && !cmd.opts.owner)
      return usage("'" + cmd.name + "': give at least one of --read, --write, --owner");
  }
  if (cmd.name == "bucket set-quotas" && !cmd.opts.max_size && !cmd.opts.max_objects)
    return usage("'bucket set-quotas': give --max-size and/or --max-objects");
  if (cmd.name == "layout assign") {
    if (cmd.opts.gateway && cmd.opts.capacity)
      return usage("'layout assign': give -c SIZE or -g (gateway), not both");
    if (!cmd.opts.zone && !cmd.opts.capacity && !cmd.opts.gateway && cmd.opts.tags.empty())
      return usage("'layout assign': give at least one of -z ZONE, -c SIZE, -g, -t TAG");
  }
  if (cmd.name == "layout apply" && !cmd.opts.layout_version)
    return usage("'layout apply': give --version N (the current version + 1; see layout show)");
  if (cmd.name == "layout skip-dead-nodes" && !cmd.opts.layout_version)
    return usage(
        "'layout skip-dead-nodes': give --version N (the current version; see layout history)");
  if (cmd.name == "worker set" && cmd.args.size() == 3 && cmd.args[1] != "tranquility")
    return usage("'worker set': unknown variable '" + cmd.args[1] +
                 "' (a worker's one variable is tranquility)");
  if (cmd.name == "layout config" && !cmd.opts.redundancy)
    return usage("'layout config': give -r N (zones) or -r maximum");
  if ((cmd.name == "key delete" || cmd.name == "bucket delete") && !cmd.opts.yes)
    return usage("'" + cmd.name + "' cannot be undone; add --yes to confirm");
  if (cmd.name == "server" && cmd.opts.config_path && cmd.opts.default_config_dir)
    return usage("'server': give -c FILE or --default-config DIR, not both");
  return cmd;
}

std::string usage_text() {
  std::string out =
      "garage: a Garage-style S3 object store node and its admin command line.\n\n"
      "Usage: garage [OPTIONS] COMMAND [ARGS]\n\n"
      "Commands:\n";
  // Synopses up to kWide share one summary column; longer ones put their
  // summary on the next line.
  constexpr size_t kWide = 44;
  size_t width = 0;
  for (const auto& c : kCommands)
    if (c.synopsis.size() <= kWide) width = std::max(width, c.synopsis.size());
  for (const auto& c : kCommands) {
    out += "  " + std::string(c.synopsis);
    if (c.synopsis.size() > kWide) {
      out += "\n  " + std::string(width + 2, ' ') + std::string(c.summary) + "\n";
    } else {
      out += std::string(width + 2 - c.synopsis.size(), ' ') + std::string(c.summary) + "\n";
    }
  }
  out +=
      "\nOptions:\n"
      "  -c, --config FILE        configuration file (default: $GARAGE_CONFIG, else the\n"
      "                           built-in configuration under ./garage-data)\n"
      "  --admin-addr HOST:PORT   admin API address (default: $GARAGE_ADMIN_ADDR, else\n"
      "                           admin.api_bind_addr of the configuration)\n"
      "  --admin-token TOKEN      admin API token (default: $GARAGE_ADMIN_TOKEN, else\n"
      "                           the configuration's admin token)\n"
      "  --json                   print the admin API's JSON instead of tables\n"
      "  -h, --help               show this help\n"
      "  -V, --version            show the version\n\n"
      "KEY is an access key id, a unique prefix of one, or a key name; BUCKET is a\n"
      "bucket name (global alias) or a unique prefix of its id.\n";
  return out;
}

std::string guess_command(const std::vector<std::string>& argv) {
  std::vector<std::string> words;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() < 2 || a[0] != '-') {
      words.push_back(a);
      continue;
    }
    if (a.find('=') != std::string::npos) continue;
    std::string_view body = a;
    body.remove_prefix(a.starts_with("--") ? 2 : 1);
    for (const auto& o : option_table()) {
      if (o.takes_value && (o.long_name == body || (!o.short_name.empty() && o.short_name == body)))
        ++i;  // skip its value
    }
  }
  if (words.empty()) return {};
  if ((words[0] == "key" || words[0] == "bucket" || words[0] == "layout" || words[0] == "worker") &&
      words.size() > 1)
    return words[0] + " " + words[1];
  return words[0];
}

std::string command_usage(std::string_view name) {
  std::string out;
  for (const auto& c : kCommands) {
    if (c.name == name ||
        (c.name.starts_with(name) && c.name.size() > name.size() && c.name[name.size()] == ' ')) {
      out += "usage: " + std::string(c.synopsis) + "\n";
    }
  }
  return out.empty() ? usage_text() : out;
}

}  // namespace garage::cli
