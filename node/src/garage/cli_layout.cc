// garage layout show | assign | remove | config | apply | revert | history |
// skip-dead-nodes
#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "garage/cli_context.h"
#include "garage/cli_table.h"

namespace garage::cli {
namespace {

std::string str(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

error usage(std::string msg) { return error(errc::invalid_argument, std::move(msg)); }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string tags_of(const json& role) {
  std::string out;
  for (const auto& t : role.value("tags", json::array())) {
    if (!t.is_string()) continue;
    if (!out.empty()) out += ",";
    out += t.get<std::string>();
  }
  return out;
}

std::string capacity_of(const json& role) {
  auto c = role.find("capacity");
  if (c == role.end() || !c->is_number_unsigned()) return "gateway";
  return format_bytes(c->get<uint64_t>());
}

std::string zone_redundancy_text(const json& params) {
  auto zr = params.find("zoneRedundancy");
  if (zr == params.end()) return "?";
  if (zr->is_string()) return zr->get<std::string>();
  if (zr->is_object() && zr->contains("atLeast"))
    return "at least " + std::to_string((*zr)["atLeast"].get<uint64_t>()) + " zones";
  return "?";
}

// Node ids the cluster knows: connected nodes, and those with a role, current
// or staged.
result<std::set<std::string>> known_nodes(const context& ctx, const json& layout) {
  std::set<std::string> ids;
  auto status = ctx.api("GET", "/v2/GetClusterStatus");
  if (!status) return std::move(status).error();
  for (const auto& n : status->value("nodes", json::array())) ids.insert(lower(str(n, "id")));
  for (const auto* list : {"roles", "stagedRoleChanges"})
    for (const auto& r : layout.value(list, json::array())) ids.insert(lower(str(r, "id")));
  ids.erase("");
  return ids;
}

// A full id, or a unique prefix of the id of a node the cluster knows.
result<std::string> resolve_node(const context& ctx, const json& layout,
                                 const std::string& pattern) {
  std::string p = lower(pattern);
  if (p.empty() || !std::all_of(p.begin(), p.end(), [](char c) { return std::isxdigit(c); }))
    return usage("'" + pattern + "' is not a node id (hex digits, or a unique prefix of them)");
  if (p.size() == 64) return p;
  GARAGE_ASSIGN_OR_RETURN(auto ids, known_nodes(ctx, layout));
  std::vector<std::string> matches;
  for (const auto& id : ids)
    if (id.starts_with(p)) matches.push_back(id);
  if (matches.empty())
    return error(errc::not_found, "no node known to the cluster has an id starting with '" +
                                      pattern + "' (see `garage status`)");
  if (matches.size() > 1)
    return usage("'" + pattern + "' matches " + std::to_string(matches.size()) +
                 " nodes; give more digits of the id");
  return matches[0];
}

// The role a node has after the staged changes, if any.
std::optional<json> effective_role(const json& layout, const std::string& id) {
  for (const auto& c : layout.value("stagedRoleChanges", json::array())) {
    if (lower(str(c, "id")) != id) continue;
    if (c.value("remove", false)) return std::nullopt;
    return c;
  }
  for (const auto& r : layout.value("roles", json::array()))
    if (lower(str(r, "id")) == id) return r;
  return std::nullopt;
}

void print_lines(const context& ctx, const json& lines) {
  if (!lines.is_array()) return;
  for (const auto& l : lines)
    if (l.is_string()) ctx.out << l.get<std::string>() << "\n";
}

void print_layout(const context& ctx, const json& l) {
  ctx.out << "==== CURRENT CLUSTER LAYOUT ====\n";
  std::vector<table_row> rows = {{"ID", "Tags", "Zone", "Capacity", "Usable capacity"}};
  uint64_t total = 0, usable = 0;
  for (const auto& r : l.value("roles", json::array())) {
    std::string use = "-";
    if (r.contains("usableCapacity") && r["usableCapacity"].is_number_unsigned()) {
      uint64_t u = r["usableCapacity"].get<uint64_t>();
      uint64_t c = r.value("capacity", uint64_t{0});
      usable += u;
      total += c;
      char pct[32];
      std::snprintf(pct, sizeof pct, " (%.1f%%)", c ? 100.0 * static_cast<double>(u) / c : 0.0);
      use = format_bytes(u) + pct;
    }
    rows.push_back({str(r, "id").substr(0, 16), tags_of(r), str(r, "zone"), capacity_of(r), use});
  }
  if (rows.size() == 1) {
    ctx.out << "No nodes have a role in the current layout.\n";
  } else {
    ctx.out << format_table(rows);
  }
  ctx.out << "\nZone redundancy: " << zone_redundancy_text(l.value("parameters", json::object()))
          << "\n\nCurrent cluster layout version: " << l.value("version", 0) << "\n";
  (void)total;
  (void)usable;
  for (const auto& c : l.value("conflicts", json::array())) {
    ctx.out << "\nWARNING: node " << str(c, "nodeId").substr(0, 16) << " holds a different layout "
            << "version " << c.value("version", 0)
            << " than this node (two applies of the same version?). Apply a newer version to "
               "settle it.\n";
  }
}

bool print_staged(const context& ctx, const json& l) {
  auto staged = l.value("stagedRoleChanges", json::array());
  bool params = l.contains("stagedParameters") && l["stagedParameters"].is_object();
  if (staged.empty() && !params) return false;
  ctx.out << "\n==== STAGED ROLE CHANGES ====\n";
  if (!staged.empty()) {
    std::vector<table_row> rows = {{"ID", "Tags", "Zone", "Capacity"}};
    for (const auto& c : staged) {
      if (c.value("remove", false)) {
        rows.push_back({str(c, "id").substr(0, 16), "", "", "REMOVED"});
      } else {
        rows.push_back({str(c, "id").substr(0, 16), tags_of(c), str(c, "zone"), capacity_of(c)});
      }
    }
    ctx.out << format_table(rows);
  }
  if (params)
    ctx.out << "\nZone redundancy: " << zone_redundancy_text(l["stagedParameters"]) << "\n";
  return true;
}

// "10G", "1.5TB", "500MiB", "1000000": bytes (SI units, or binary with "i").
result<uint64_t> parse_capacity(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  std::string num = text.substr(0, i), unit = lower(text.substr(i));
  auto bad = [&] {
    return usage("invalid capacity '" + text + "' (examples: 500G, 1.5T, 100GiB, 1000000)");
  };
  if (num.empty() || std::count(num.begin(), num.end(), '.') > 1) return bad();
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  static const std::pair<std::string_view, double> units[] = {{"", 1},
                                                              {"k", 1e3},
                                                              {"m", 1e6},
                                                              {"g", 1e9},
                                                              {"t", 1e12},
                                                              {"p", 1e15},
                                                              {"ki", 1024.0},
                                                              {"mi", 1048576.0},
                                                              {"gi", 1073741824.0},
                                                              {"ti", 1099511627776.0},
                                                              {"pi", 1125899906842624.0}};
  for (const auto& [name, factor] : units) {
    if (unit != name) continue;
    double v = std::stod(num) * factor;
    if (!(v >= 1) || v > 1.8e19) return bad();
    return static_cast<uint64_t>(std::llround(v));
  }
  return bad();
}

result<uint64_t> parse_version(const std::string& t) {
  if (t.empty() || t.size() > 19 ||
      !std::all_of(t.begin(), t.end(), [](char c) { return std::isdigit(c); }))
    return usage("invalid layout version '" + t + "' (a number)");
  return std::stoull(t);
}

result<json> get_layout(const context& ctx) { return ctx.api("GET", "/v2/GetClusterLayout"); }

result<void> print_or(const context& ctx, const json& j, const std::string& text) {
  if (ctx.cmd.opts.json) {
    ctx.print_json(j);
  } else {
    ctx.out << text;
  }
  return ok();
}

constexpr const char* kStagedHint =
    "Role changes are staged but not yet committed.\n"
    "Use `garage layout show` to view staged role changes,\n"
    "and `garage layout apply` to enact staged changes.\n";

}  // namespace

result<void> cmd_layout(const context& ctx) {
  const auto& cmd = ctx.cmd;
  const auto& o = cmd.opts;

  if (cmd.name == "layout show") {
    GARAGE_ASSIGN_OR_RETURN(json l, get_layout(ctx));
    if (o.json) {
      ctx.print_json(l);
      return ok();
    }
    print_layout(ctx, l);
    if (!print_staged(ctx, l)) return ok();
    GARAGE_ASSIGN_OR_RETURN(json p, ctx.api("POST", "/v2/PreviewClusterLayoutChanges"));
    ctx.out << "\n==== NEW CLUSTER LAYOUT AFTER APPLYING CHANGES ====\n";
    if (p.contains("error")) {
      ctx.out << "Error while trying to compute the assignment: " << str(p, "error")
              << "\nThis new layout cannot yet be applied.\n";
      return ok();
    }
    print_lines(ctx, p.value("message", json::array()));
    uint64_t next = l.value("version", uint64_t{0}) + 1;
    ctx.out << "\nTo enact the staged role changes, type:\n\n    garage layout apply --version "
            << next << "\n\nYou can also revert all proposed changes with: garage layout revert\n";
    return ok();
  }

  if (cmd.name == "layout assign") {
    GARAGE_ASSIGN_OR_RETURN(json l, get_layout(ctx));
    GARAGE_ASSIGN_OR_RETURN(std::string id, resolve_node(ctx, l, cmd.args[0]));
    json role = effective_role(l, id).value_or(json::object());
    if (o.zone) role["zone"] = *o.zone;
    if (o.gateway) {
      role["capacity"] = nullptr;
    } else if (o.capacity) {
      GARAGE_ASSIGN_OR_RETURN(uint64_t bytes, parse_capacity(*o.capacity));
      role["capacity"] = bytes;
    }
    if (!o.tags.empty()) role["tags"] = o.tags;
    if (str(role, "zone").empty())
      return usage("node " + id.substr(0, 16) + " has no role yet: give its zone with -z ZONE");
    if (!role.contains("capacity"))
      return usage("node " + id.substr(0, 16) +
                   " has no role yet: give its capacity with -c SIZE, or -g for a gateway");
    json change = {{"id", id},
                   {"zone", role["zone"]},
                   {"capacity", role["capacity"]},
                   {"tags", role.value("tags", json::array())}};
    GARAGE_ASSIGN_OR_RETURN(
        json r, ctx.api("POST", "/v2/UpdateClusterLayout", json{{"roles", json::array({change})}}));
    return print_or(ctx, r, kStagedHint);
  }

  if (cmd.name == "layout remove") {
    GARAGE_ASSIGN_OR_RETURN(json l, get_layout(ctx));
    GARAGE_ASSIGN_OR_RETURN(std::string id, resolve_node(ctx, l, cmd.args[0]));
    json change = {{"id", id}, {"remove", true}};
    GARAGE_ASSIGN_OR_RETURN(
        json r, ctx.api("POST", "/v2/UpdateClusterLayout", json{{"roles", json::array({change})}}));
    return print_or(ctx, r, kStagedHint);
  }

  if (cmd.name == "layout config") {
    json zr;
    if (*o.redundancy == "maximum" || *o.redundancy == "max") {
      zr = "maximum";
    } else {
      const std::string& t = *o.redundancy;
      if (t.empty() || t.size() > 3 ||
          !std::all_of(t.begin(), t.end(), [](char c) { return std::isdigit(c); }) ||
          std::stoul(t) == 0)
        return usage("invalid zone redundancy '" + t + "' (a number of zones, or 'maximum')");
      zr = json{{"atLeast", std::stoul(t)}};
    }
    GARAGE_ASSIGN_OR_RETURN(json r, ctx.api("POST", "/v2/UpdateClusterLayout",
                                            json{{"parameters", {{"zoneRedundancy", zr}}}}));
    return print_or(ctx, r, kStagedHint);
  }

  if (cmd.name == "layout skip-dead-nodes") {
    GARAGE_ASSIGN_OR_RETURN(uint64_t v, parse_version(*o.layout_version));
    GARAGE_ASSIGN_OR_RETURN(
        json r, ctx.api("POST", "/v2/ClusterLayoutSkipDeadNodes",
                        json{{"version", v}, {"allowMissingData", o.allow_missing_data}}));
    if (o.json) {
      ctx.print_json(r);
      return ok();
    }
    auto list = [&](const char* field) { return r.value(field, json::array()); };
    for (const auto& id : list("ackUpdated"))
      ctx.out << "Increased the ack tracker of node " << id.get<std::string>().substr(0, 16)
              << " (down) to version " << v << ".\n";
    for (const auto& id : list("syncUpdated"))
      ctx.out << "Increased the sync tracker of node " << id.get<std::string>().substr(0, 16)
              << " to version " << v << ".\n";
    for (const auto& id : list("syncNotUpdated"))
      ctx.out << "Kept the sync tracker of node " << id.get<std::string>().substr(0, 16)
              << ": some of its partitions have a write quorum of nodes down, so writes may\n"
                 "exist only on their disks. The old version cannot retire until they come back;\n"
                 "to give those writes up, run again with --allow-missing-data.\n";
    if (list("ackUpdated").empty() && list("syncUpdated").empty()) {
      ctx.out << "Nothing changed: the trackers of the nodes that are down already allow "
                 "version "
              << v << ".\n";
    } else {
      ctx.out << "Success. The older layout versions retire once the live nodes have synced "
                 "version "
              << v << "\n(watch `garage layout history`).\n";
    }
    return ok();
  }

  if (cmd.name == "layout apply") {
    GARAGE_ASSIGN_OR_RETURN(uint64_t version, parse_version(*o.layout_version));
    GARAGE_ASSIGN_OR_RETURN(json r,
                            ctx.api("POST", "/v2/ApplyClusterLayout", json{{"version", version}}));
    if (o.json) {
      ctx.print_json(r);
      return ok();
    }
    print_lines(ctx, r.value("message", json::array()));
    ctx.out << "\nNew cluster layout with updated role assignment has been applied in cluster "
               "(version "
            << r["layout"].value("version", 0) << ").\n";
    return ok();
  }

  if (cmd.name == "layout revert") {
    GARAGE_ASSIGN_OR_RETURN(json r, ctx.api("POST", "/v2/RevertClusterLayout"));
    return print_or(ctx, r, "All proposed role changes in cluster layout have been canceled.\n");
  }

  if (cmd.name == "layout history") {
    GARAGE_ASSIGN_OR_RETURN(json h, ctx.api("GET", "/v2/GetClusterLayoutHistory"));
    if (o.json) {
      ctx.print_json(h);
      return ok();
    }
    ctx.out << "==== LAYOUT HISTORY ====\n";
    std::vector<table_row> rows = {{"Version", "Status", "Storage nodes", "Gateway nodes"}};
    for (const auto& v : h.value("versions", json::array()))
      rows.push_back({std::to_string(v.value("version", 0)), str(v, "status"),
                      std::to_string(v.value("storageNodes", 0)),
                      std::to_string(v.value("gatewayNodes", 0))});
    ctx.out << format_table(rows);
    ctx.out << "\nCurrent version: " << h.value("currentVersion", 0)
            << "\nOldest version still acknowledged by every node: " << h.value("minAck", 0)
            << "\n";
    auto trackers = h.value("updateTrackers", json::object());
    if (!trackers.empty()) {
      ctx.out << "\n==== UPDATE TRACKERS ====\n";
      std::vector<table_row> t = {{"Node", "Ack", "Sync", "Sync-ack"}};
      for (const auto& [id, v] : trackers.items())
        t.push_back({id.substr(0, 16), std::to_string(v.value("ack", 0)),
                     std::to_string(v.value("sync", 0)), std::to_string(v.value("syncAck", 0))});
      ctx.out << format_table(t);
    }
    if (h.value("versions", json::array()).size() > 1) {
      const uint64_t cur = h.value("currentVersion", uint64_t{0});
      ctx.out << "\nOlder versions retire once every node has acknowledged and synced version "
              << cur
              << ".\nIf a node that holds an older version is gone for good (removed from the "
                 "layout),\nlet them retire without it: garage layout skip-dead-nodes --version "
              << cur << "\n";
    }
    return ok();
  }

  return error(errc::invalid_argument, "unknown command '" + cmd.name + "'");
}

}  // namespace garage::cli
