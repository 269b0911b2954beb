// garage bucket create | list | info | delete | alias | unalias | allow | deny
#include "garage/cli_context.h"
#include "garage/cli_table.h"
#include "util/config.h"

namespace garage::cli {
namespace {

std::string str(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
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

// The bucket's first global alias, else its short id: how messages name it.
std::string label(const json& b) {
  auto aliases = b.value("globalAliases", json::array());
  if (!aliases.empty() && aliases[0].is_string()) return aliases[0].get<std::string>();
  return str(b, "id").substr(0, 16);
}

// "name (key GK…), …" from the keys' bucketLocalAliases.
std::string local_aliases(const json& b) {
  std::string out;
  for (const auto& k : b.value("keys", json::array())) {
    for (const auto& a : k.value("bucketLocalAliases", json::array())) {
      if (!a.is_string()) continue;
      if (!out.empty()) out += ", ";
      out += a.get<std::string>() + " (key " + str(k, "accessKeyId") + ")";
    }
  }
  return out;
}

// "max 10.0 MiB, 100 objects", "none".
std::string format_quotas(const json& b) {
  json q = b.value("quotas", json::object());
  std::string out;
  if (q.contains("maxSize") && q["maxSize"].is_number_unsigned())
    out = "max " + format_bytes(q["maxSize"].get<uint64_t>());
  if (q.contains("maxObjects") && q["maxObjects"].is_number_unsigned())
    out += (out.empty() ? "max " : ", ") + std::to_string(q["maxObjects"].get<uint64_t>()) +
           " objects";
  return out.empty() ? "none" : out;
}

}  // namespace

std::string render_bucket_info(const json& b) {
  uint64_t bytes = b.value("bytes", uint64_t{0});
  std::vector<std::pair<std::string, std::string>> fields = {
      {"Bucket", str(b, "id")},
      {"Created", str(b, "created")},
      {"Global aliases", join(b.value("globalAliases", json::array()))},
      {"Local aliases", local_aliases(b)},
      {"Size", format_bytes(bytes) + " (" + std::to_string(bytes) + " B)"},
      {"Objects", std::to_string(b.value("objects", int64_t{0}))},
      {"Unfinished uploads", std::to_string(b.value("unfinishedUploads", int64_t{0}))},
      {"Website access", b.value("websiteAccess", false) ? "yes" : "no"},
      {"Quotas", format_quotas(b)},
  };
  std::string out = format_fields(fields);
  auto keys = b.value("keys", json::array());
  if (keys.empty()) {
    out += "\nNo access key has permissions on this bucket.\n";
  } else {
    std::vector<table_row> rows = {{"Permissions", "Access key", "Name"}};
    for (const auto& k : keys) {
      auto p = k.value("permissions", json::object());
      rows.push_back({format_permissions(p.value("read", false), p.value("write", false),
                                         p.value("owner", false)),
                      str(k, "accessKeyId"), str(k, "name")});
    }
    out += "\nKeys:\n" + format_table(rows);
  }
  return out;
}

result<void> cmd_bucket(const context& ctx) {
  const auto& cmd = ctx.cmd;
  const auto& o = cmd.opts;
  auto print_bucket = [&](const json& b) {
    if (o.json) {
      ctx.print_json(b);
    } else {
      ctx.out << render_bucket_info(b);
    }
  };

  if (cmd.name == "bucket list") {
    auto list = ctx.api("GET", "/v2/ListBuckets");
    if (!list) return std::move(list).error();
    if (o.json) {
      ctx.print_json(*list);
      return ok();
    }
    std::vector<table_row> rows = {{"ID", "Created", "Global aliases"}};
    for (const auto& b : *list) {
      rows.push_back({str(b, "id").substr(0, 16), str(b, "created").substr(0, 10),
                      join(b.value("globalAliases", json::array()))});
    }
    ctx.out << format_table(rows);
    return ok();
  }

  if (cmd.name == "bucket create") {
    auto b = ctx.api("POST", "/v2/CreateBucket", json{{"globalAlias", cmd.args[0]}});
    if (!b) return std::move(b).error();
    if (o.json) {
      ctx.print_json(*b);
    } else {
      ctx.out << "Bucket " << cmd.args[0] << " created (id " << str(*b, "id") << ").\n";
    }
    return ok();
  }

  // Local aliases: the key, and (unalias with one argument) the bucket its
  // alias names.
  std::optional<json> local_key;
  if (o.local) {
    auto k = find_key(ctx, *o.local);
    if (!k) return std::move(k).error();
    local_key = std::move(*k);
  }
  if (local_key && cmd.name == "bucket unalias" && cmd.args.size() == 1) {
    auto list = ctx.api("GET", "/v2/ListBuckets");
    if (!list) return std::move(list).error();
    std::string key_id = str(*local_key, "accessKeyId");
    for (const auto& lb : *list) {
      for (const auto& la : lb.value("localAliases", json::array())) {
        if (str(la, "accessKeyId") == key_id && str(la, "alias") == cmd.args[0]) {
          auto r = ctx.api("POST", "/v2/RemoveBucketAlias",
                           json{{"bucketId", str(lb, "id")},
                                {"accessKeyId", key_id},
                                {"localAlias", cmd.args[0]}});
          if (!r) return std::move(r).error();
          if (o.json) {
            ctx.print_json(*r);
          } else {
            ctx.out << "Local alias " << cmd.args[0] << " of key " << key_id << " removed.\n";
          }
          return ok();
        }
      }
    }
    return error(errc::not_found, "key " + key_id + " has no local alias " + cmd.args[0]);
  }

  // unalias with one argument: the alias names the bucket too.
  const std::string& pattern = cmd.args[0];
  auto b = find_bucket(ctx, pattern);
  if (!b) return std::move(b).error();
  std::string id = str(*b, "id");

  if (cmd.name == "bucket info") {
    print_bucket(*b);
    return ok();
  }

  if (cmd.name == "bucket delete") {
    auto d = ctx.api("POST", "/v2/DeleteBucket?id=" + url_encode(id));
    if (!d) return std::move(d).error();
    if (o.json) {
      ctx.print_json(*d);
    } else {
      ctx.out << "Bucket " << label(*b) << " deleted.\n";
    }
    return ok();
  }

  if (cmd.name == "bucket alias" || cmd.name == "bucket unalias") {
    bool add = cmd.name == "bucket alias";
    const std::string& alias = cmd.args.size() == 2 ? cmd.args[1] : cmd.args[0];
    json body = {{"bucketId", id}, {"globalAlias", alias}};
    if (local_key) {
      body = {
          {"bucketId", id}, {"accessKeyId", str(*local_key, "accessKeyId")}, {"localAlias", alias}};
    }
    auto r = ctx.api("POST", add ? "/v2/AddBucketAlias" : "/v2/RemoveBucketAlias", body);
    if (!r) return std::move(r).error();
    if (o.json) {
      ctx.print_json(*r);
    } else if (local_key) {
      ctx.out << "Local alias " << alias << " of key " << str(*local_key, "accessKeyId")
              << (add ? " now points to bucket " : " removed from bucket ") << id.substr(0, 16)
              << ".\n";
    } else if (add) {
      ctx.out << "Alias " << alias << " now points to bucket " << id.substr(0, 16) << ".\n";
    } else {
      ctx.out << "Alias " << alias << " removed from bucket " << id.substr(0, 16) << ".\n";
    }
    return ok();
  }

  if (cmd.name == "bucket set-quotas") {
    // Unchanged limits are sent back as they are: UpdateBucket sets both.
    json current = b->value("quotas", json::object());
    json quotas = {{"maxSize", current.value("maxSize", json())},
                   {"maxObjects", current.value("maxObjects", json())}};
    if (o.max_size) {
      if (*o.max_size == "none") {
        quotas["maxSize"] = nullptr;
      } else {
        auto n = parse_size(*o.max_size);
        if (!n) return error(errc::invalid_argument, "--max-size: not a size: " + *o.max_size);
        quotas["maxSize"] = *n;
      }
    }
    if (o.max_objects) {
      if (*o.max_objects == "none") {
        quotas["maxObjects"] = nullptr;
      } else {
        auto n = parse_size(*o.max_objects);
        if (!n || o.max_objects->find_first_not_of("0123456789") != std::string::npos)
          return error(errc::invalid_argument, "--max-objects: not a number: " + *o.max_objects);
        quotas["maxObjects"] = *n;
      }
    }
    auto r = ctx.api("POST", "/v2/UpdateBucket?id=" + url_encode(id), json{{"quotas", quotas}});
    if (!r) return std::move(r).error();
    if (o.json) {
      ctx.print_json(*r);
    } else {
      ctx.out << "Quotas of bucket " << label(*r) << ": " << format_quotas(*r) << "\n";
    }
    return ok();
  }

  if (cmd.name == "bucket allow" || cmd.name == "bucket deny") {
    bool allow = cmd.name == "bucket allow";
    auto k = find_key(ctx, *o.key);
    if (!k) return std::move(k).error();
    std::string key_id = str(*k, "accessKeyId");
    json body = {{"bucketId", id},
                 {"accessKeyId", key_id},
                 {"permissions", {{"read", o.read}, {"write", o.write}, {"owner", o.owner}}}};
    auto r = ctx.api("POST", allow ? "/v2/AllowBucketKey" : "/v2/DenyBucketKey", body);
    if (!r) return std::move(r).error();
    if (o.json) {
      ctx.print_json(*r);
      return ok();
    }
    std::string now = "---";
    for (const auto& entry : r->value("keys", json::array())) {
      if (str(entry, "accessKeyId") != key_id) continue;
      auto p = entry.value("permissions", json::object());
      now = format_permissions(p.value("read", false), p.value("write", false),
                               p.value("owner", false));
    }
    ctx.out << "Key " << key_id << " on bucket " << label(*r) << ": " << now << "\n";
    return ok();
  }

  return error(errc::invalid_argument, "unknown command '" + cmd.name + "'");
}

}  // namespace garage::cli
