// garage key create | list | info | import | allow | deny | rename | delete
#include "garage/cli_context.h"
#include "garage/cli_table.h"

namespace garage::cli {
namespace {

std::string str(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::string perm_flags(const json& p) {
  return format_permissions(p.value("read", false), p.value("write", false),
                            p.value("owner", false));
}

std::string join(const json& arr) {
  std::string out;
  if (!arr.is_array()) return out;
  for (const auto& a : arr) {
    if (!a.is_string()) continue;
    if (!out.empty()) out += ", ";
    out += a.get<std::string>();
  }
  return out;
}

}  // namespace

std::string render_key_info(const json& k) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"Key name", str(k, "name")},
      {"Key ID", str(k, "accessKeyId")},
  };
  auto secret = k.find("secretAccessKey");
  fields.emplace_back("Secret key", secret != k.end() && secret->is_string()
                                        ? secret->get<std::string>()
                                        : "(redacted)");
  bool can_create = k.contains("permissions") && k["permissions"].is_object() &&
                    k["permissions"].value("createBucket", false);
  fields.emplace_back("Can create buckets", can_create ? "yes" : "no");
  std::string out = format_fields(fields);
  auto buckets = k.value("buckets", json::array());
  if (buckets.empty()) {
    out += "\nNo buckets: this key has no permission on any bucket.\n";
  } else {
    std::vector<table_row> rows = {{"Permissions", "Bucket ID", "Global aliases"}};
    for (const auto& b : buckets) {
      rows.push_back({perm_flags(b.value("permissions", json::object())),
                      str(b, "id").substr(0, 16), join(b.value("globalAliases", json::array()))});
    }
    out += "\nBuckets:\n" + format_table(rows);
  }
  return out;
}

result<void> cmd_key(const context& ctx) {
  const auto& cmd = ctx.cmd;
  const auto& o = cmd.opts;
  auto print_key = [&](const json& k) {
    if (o.json) {
      ctx.print_json(k);
    } else {
      ctx.out << render_key_info(k);
    }
  };

  if (cmd.name == "key list") {
    auto keys = ctx.api("GET", "/v2/ListKeys");
    if (!keys) return std::move(keys).error();
    if (o.json) {
      ctx.print_json(*keys);
      return ok();
    }
    std::vector<table_row> rows = {{"ID", "Name"}};
    for (const auto& k : *keys) rows.push_back({str(k, "id"), str(k, "name")});
    ctx.out << format_table(rows);
    return ok();
  }

  if (cmd.name == "key create") {
    json body = json::object();
    body["name"] = cmd.args.empty() ? std::string() : cmd.args[0];
    auto k = ctx.api("POST", "/v2/CreateKey", body);
    if (!k) return std::move(k).error();
    print_key(*k);
    return ok();
  }

  if (cmd.name == "key import") {
    json body = {{"accessKeyId", cmd.args[0]},
                 {"secretAccessKey", cmd.args[1]},
                 {"name", o.name.value_or("")}};
    auto k = ctx.api("POST", "/v2/ImportKey", body);
    if (!k) return std::move(k).error();
    print_key(*k);
    return ok();
  }

  auto k = find_key(ctx, cmd.args[0], cmd.name == "key info" && o.show_secret);
  if (!k) return std::move(k).error();
  std::string id = str(*k, "accessKeyId");

  if (cmd.name == "key info") {
    print_key(*k);
    return ok();
  }

  if (cmd.name == "key delete") {
    auto d = ctx.api("POST", "/v2/DeleteKey?id=" + url_encode(id));
    if (!d) return std::move(d).error();
    if (o.json) {
      ctx.print_json(*d);
    } else {
      ctx.out << "Key " << id << " deleted.\n";
    }
    return ok();
  }

  json body = json::object();
  std::string done;
  if (cmd.name == "key rename") {
    body["name"] = cmd.args[1];
    done = "Key " + id + " renamed to '" + cmd.args[1] + "'.";
  } else if (cmd.name == "key allow") {
    body["allow"] = {{"createBucket", true}};
    done = "Key " + id + " may now create buckets.";
  } else if (cmd.name == "key deny") {
    body["deny"] = {{"createBucket", true}};
    done = "Key " + id + " may no longer create buckets.";
  } else {
    return error(errc::invalid_argument, "unknown command '" + cmd.name + "'");
  }
  auto u = ctx.api("POST", "/v2/UpdateKey?id=" + url_encode(id), body);
  if (!u) return std::move(u).error();
  if (o.json) {
    ctx.print_json(*u);
  } else {
    ctx.out << done << "\n";
  }
  return ok();
}

}  // namespace garage::cli
