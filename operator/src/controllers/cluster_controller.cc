#include "controllers/cluster_controller.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "cluster/objects.h"
#include "cluster/spec.h"
#include "controllers/common.h"
#include "garage/admin_client.h"
#include "garage/layout_plan.h"
#include "util/log.h"

namespace garage::op {

namespace {

using namespace std::chrono_literals;
using cluster::cluster_spec;
using cluster::zone_spec;

constexpr auto busy_requeue = 5s;
constexpr auto idle_requeue = 30s;

std::string label_selector(const cluster_spec& s, const zone_spec& z) {
  return "app.kubernetes.io/instance=" + s.name + ",objectstore.garage-cpp.dev/zone=" + z.name;
}

int ordinal_of(const json& pod) {
  std::string n = pod["metadata"].value("name", "");
  auto dash = n.rfind('-');
  if (dash == std::string::npos) return -1;
  try {
    return std::stoi(n.substr(dash + 1));
  } catch (...) {
    return -1;
  }
}

bool pod_ready(const json& pod) {
  if (pod["metadata"].contains("deletionTimestamp")) return false;
  if (!pod.contains("status") || !pod["status"].contains("conditions")) return false;
  for (const auto& c : pod["status"]["conditions"])
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

bool pod_running(const json& pod) {
  if (pod["metadata"].contains("deletionTimestamp") || !pod.contains("status")) return false;
  return pod["status"].value("phase", "") == "Running" && !pod["status"].value("podIP", "").empty();
}

// How long the pod's first container has been running (0 when unknown).
std::chrono::seconds running_for(const json& pod) {
  try {
    const json& cs = pod.at("status").at("containerStatuses").at(0);
    std::string at = cs.at("state").at("running").at("startedAt").get<std::string>();
    std::tm tm{};
    if (!strptime(at.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::chrono::seconds(0);
    auto started = std::chrono::system_clock::from_time_t(timegm(&tm));
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() -
                                                            started);
  } catch (const std::exception&) {
    return std::chrono::seconds(0);
  }
}

std::string pod_ip(const json& pod) {
  if (!pod.contains("status")) return {};
  return pod["status"].value("podIP", "");
}

std::string site_label(const zone_spec& z) {
  return z.site_secret.empty() ? "local" : z.site_secret;
}

// Everything known about one zone in this round.
struct zone_state {
  const zone_spec* spec = nullptr;
  std::shared_ptr<k8s::client> kube;  // null: site unreachable
  std::string site_error;
  bool local_owner = false;               // objects can carry an ownerReference to the cluster
  json sts;                               // null when absent
  int current = 0;                        // replicas of the StatefulSet as stored
  int target = 0;                         // replicas it gets this round
  std::map<int, json> pods;               // by ordinal
  std::map<int, std::string> public_rpc;  // ordinal → host:port other sites dial
  std::map<int, std::string> admin_url;   // ordinal → http://host:port
  std::map<int, std::string> node_id;     // ordinal → node id (from its admin API or the layout)
  bool services_ready = true;             // every per-node Service has its address
  bool removed = false;                   // the zone is no longer in the spec
  bool gone = false;                      // ... and its objects are deleted
};

// The node id each pod name has in the layout (roles carry the pod name as tag).
std::map<std::string, std::string> ids_by_tag(const json& layout) {
  std::map<std::string, std::string> out;
  auto add = [&](const json& roles) {
    if (!roles.is_array()) return;
    for (const auto& r : roles)
      if (r.contains("tags") && r["tags"].is_array())
        for (const auto& t : r["tags"])
          if (t.is_string()) out[t.get<std::string>()] = r.value("id", "");
  };
  if (layout.is_object()) {
    add(layout.value("roles", json::array()));
    add(layout.value("stagedRoleChanges", json::array()));
  }
  return out;
}

std::set<std::string> role_ids(const json& layout) {
  std::set<std::string> out;
  if (layout.is_object() && layout.contains("roles"))
    for (const auto& r : layout["roles"]) out.insert(r.value("id", ""));
  return out;
}

std::string join_lines(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  std::string out;
  if (v.is_array())
    for (const auto& l : v) {
      if (!out.empty()) out += "\n";
      out += l.is_string() ? l.get<std::string>() : l.dump();
    }
  return out;
}

}  // namespace

result<reconcile_result> cluster_reconciler::reconcile(const std::string& ns,
                                                       const std::string& name) {
  auto cached = d_.clusters.get(ns, name);
  if (!cached) {
    d_.m.forget_cluster(ns, name);
    return reconcile_result{};
  }
  json obj = *cached;
  k8s::client& local = d_.site.local();
  const auto gcl = k8s::kinds::garage_cluster();
  const json old_status = obj.value("status", json::object());
  const int64_t generation = obj["metadata"].value("generation", int64_t{0});
  conditions conds(old_status, generation);

  auto spec_r = cluster::parse_cluster(obj);
  const bool deleting = obj["metadata"].contains("deletionTimestamp");

  if (!spec_r) {
    if (deleting) {  // nothing we can reason about: let it go
      GARAGE_TRY(remove_finalizer(local, gcl, obj));
      return reconcile_result{};
    }
    conds.set("Ready", false, "InvalidSpec", spec_r.error().message);
    conds.set("Progressing", false, "InvalidSpec", "waiting for a valid spec");
    if (conds.changed("Ready")) d_.events.warning(obj, "InvalidSpec", spec_r.error().message);
    json st = old_status;
    st["observedGeneration"] = generation;
    st["conditions"] = conds.to_json();
    GARAGE_TRY(write_status(local, gcl, obj, st));
    return reconcile_result{};
  }
  const cluster_spec& spec = *spec_r;

  // Sites: one client per zone (shared per Secret).
  // Zones removed from the spec (known from the status) are scaled to 0
  // nodes like any scale-down, then their objects are deleted.
  std::deque<zone_spec> removed;
  for (const auto& oz : old_status.value("zones", json::array())) {
    std::string zname = oz.value("name", "");
    if (zname.empty() || spec.zone(zname)) continue;
    zone_spec z;
    z.name = zname;
    std::string site = oz.value("site", "local");
    z.site_secret = site == "local" ? "" : site;
    z.site_secret_key = oz.value("siteKey", "kubeconfig");
    z.ns = oz.value("namespace", ns);
    z.nodes = 0;
    z.meta_size = "1Gi";
    z.data_size = "10Gi";
    z.scheduling = json::object();
    removed.push_back(std::move(z));
  }
  std::vector<const zone_spec*> all_zones;
  for (const auto& z : spec.zones) all_zones.push_back(&z);
  for (const auto& z : removed) all_zones.push_back(&z);

  std::vector<zone_state> zones;
  std::vector<std::string> site_errors;
  for (const zone_spec* zp : all_zones) {
    const zone_spec& z = *zp;
    zone_state zs;
    zs.spec = &z;
    zs.removed = !spec.zone(z.name);
    zs.local_owner = z.site_secret.empty() && z.ns == ns;
    auto c = d_.site.get(ns, z.site_secret, z.site_secret_key);
    if (!c) {
      zs.site_error = c.error().message;
    } else {
      zs.kube = *c;
      auto sts = zs.kube->get(k8s::kinds::stateful_set(), z.ns, spec.name + "-" + z.name);
      if (sts) {
        zs.sts = *sts;
        zs.current = zs.sts["spec"].value("replicas", 1);
      } else if (!sts.error().is_not_found()) {
        zs.site_error = from_api(sts.error(), "site " + site_label(z)).message;
        zs.kube.reset();
      }
    }
    if (!zs.site_error.empty())
      site_errors.push_back("zone " + z.name + " (site " + site_label(z) + "): " + zs.site_error);
    zones.push_back(std::move(zs));
  }

  if (deleting) {
    // Local objects in the cluster's namespace go with it (ownerReferences);
    // the others are deleted here. Volumes (PersistentVolumeClaims) stay:
    // deleting the resource never deletes data.
    std::vector<std::string> blocked = site_errors;
    for (auto& zs : zones) {
      if (!zs.kube || zs.local_owner) continue;
      const auto& z = *zs.spec;
      auto del = [&](const k8s::resource_kind& k, const std::string& n) {
        auto r = zs.kube->remove(k, z.ns, n);
        if (!r && !r.error().is_not_found())
          blocked.push_back("zone " + z.name + ": delete " + n + ": " + r.error().message);
      };
      del(k8s::kinds::stateful_set(), spec.name + "-" + z.name);
      del(k8s::kinds::config_map(), spec.name + "-" + z.name + "-config");
      del(k8s::kinds::service(), spec.name + "-" + z.name);
      for (int i = 0; i < std::max(zs.current, z.nodes); ++i)
        del(k8s::kinds::service(), spec.name + "-" + z.name + "-" + std::to_string(i));
      del(k8s::kinds::service(), spec.name);
      del(k8s::kinds::pod_disruption_budget(), spec.name);
      del(k8s::kinds::secret(), cluster::secrets_name(spec));
    }
    if (!blocked.empty()) {
      std::string msg = "cannot delete the objects of every site: " + blocked.front();
      conds.set("Ready", false, "DeletionBlocked", msg);
      if (conds.changed("Ready")) d_.events.warning(obj, "DeletionBlocked", msg);
      json st = old_status;
      st["conditions"] = conds.to_json();
      GARAGE_TRY(write_status(local, gcl, obj, st));
      return reconcile_result{10s};
    }
    d_.events.normal(obj, "Deleted", "objects of every site deleted; volumes kept");
    GARAGE_TRY(remove_finalizer(local, gcl, obj));
    d_.m.forget_cluster(ns, name);
    return reconcile_result{};
  }

  if (!has_finalizer(obj)) {
    GARAGE_TRY(add_finalizer(local, gcl, obj));
    return reconcile_result{std::chrono::milliseconds(1)};  // again, with the new object
  }

  // The shared secrets: the user's, or generated once into <cluster>-secrets.
  std::string rpc_secret, admin_token;
  {
    auto existing_rpc = secret_value(local, ns, cluster::secrets_name(spec), "rpc-secret");
    auto existing_tok = secret_value(local, ns, cluster::secrets_name(spec), "admin-token");
    if (spec.rpc_secret_given) {
      auto v = secret_value(local, ns, spec.rpc_secret_name, spec.rpc_secret_key);
      if (!v) return std::move(v).error();
      rpc_secret = *v;
    } else {
      rpc_secret = existing_rpc ? *existing_rpc : cluster::random_hex(32);
    }
    if (spec.admin_token_given) {
      auto v = secret_value(local, ns, spec.admin_token_name, spec.admin_token_key);
      if (!v) return std::move(v).error();
      admin_token = *v;
    } else {
      admin_token = existing_tok ? *existing_tok : cluster::random_hex(32);
    }
  }
  const json owner = owner_reference(obj);
  auto own = [&](json o, const zone_state& zs) {
    if (zs.local_owner) o["metadata"]["ownerReferences"] = json::array({owner});
    return o;
  };

  bool progressing = false;
  std::set<std::string> ops;          // operations in progress, for the metrics
  std::vector<std::string> progress;  // what is going on, for the condition
  std::vector<std::string> problems;  // what is wrong, for Degraded

  // Objects shared per (site, namespace): Secrets, the API Service, the PDB.
  std::set<std::string> done_ns;
  for (auto& zs : zones) {
    if (!zs.kube) continue;
    const auto& z = *zs.spec;
    std::string key = site_label(z) + "/" + z.ns;
    if (!zs.removed && done_ns.insert(key).second) {
      int largest = 0;
      for (const auto& other : spec.zones)
        if (site_label(other) == site_label(z) && other.ns == z.ns)
          largest = std::max(largest, other.nodes);
      GARAGE_TRY(apply(*zs.kube, k8s::kinds::secret(),
                       own(cluster::secrets(spec, z.ns, rpc_secret, admin_token), zs)));
      GARAGE_TRY(apply(*zs.kube, k8s::kinds::service(), own(cluster::api_service(spec, z.ns), zs)));
      GARAGE_TRY(apply(*zs.kube, k8s::kinds::pod_disruption_budget(),
                       own(cluster::pod_disruption_budget(spec, z.ns, largest), zs)));
    }
    if (!zs.removed)
      GARAGE_TRY(
          apply(*zs.kube, k8s::kinds::service(), own(cluster::headless_service(spec, z), zs)));

    // Pods of the zone.
    k8s::list_options lo;
    lo.label_selector = label_selector(spec, z);
    auto pods = zs.kube->list(k8s::kinds::pod(), z.ns, lo);
    if (pods)
      for (auto& p : pods->items)
        if (int o = ordinal_of(p); o >= 0) zs.pods[o] = std::move(p);

    // Per-node Services where other sites must reach the node.
    int upto = std::max(zs.current, z.nodes);
    for (int i = 0; i < upto; ++i) {
      std::string host;
      int admin_port = spec.admin_port;
      if (spec.multi_site()) {
        auto svc =
            apply(*zs.kube, k8s::kinds::service(), own(cluster::node_service(spec, z, i), zs));
        if (!svc) return std::move(svc).error();
        const json& s = *svc;
        if (spec.exposure_type == "LoadBalancer") {
          auto ing = s.value("status", json::object())
                         .value("loadBalancer", json::object())
                         .value("ingress", json::array());
          if (!ing.empty()) host = ing[0].value("ip", ing[0].value("hostname", ""));
          if (host.empty())
            zs.services_ready = false;
          else
            zs.public_rpc[i] = host + ":" + std::to_string(spec.rpc_port);
        } else if (zs.pods.count(i)) {
          std::string node_addr = zs.pods[i].value("status", json::object()).value("hostIP", "");
          int rpc_np = 0;
          for (const auto& p : s["spec"].value("ports", json::array())) {
            if (p.value("name", "") == "rpc") rpc_np = p.value("nodePort", 0);
            // NodePort, and HostPort (whose admin API is behind a NodePort too)
            if (p.value("name", "") == "admin") admin_port = p.value("nodePort", spec.admin_port);
          }
          if (!node_addr.empty()) {
            int port = spec.exposure_type == "NodePort" ? rpc_np : spec.rpc_port;
            zs.public_rpc[i] = node_addr + ":" + std::to_string(port);
            host = node_addr;
          }
        }
      }
      if (zs.pods.count(i)) {
        const json& p = zs.pods[i];
        if (host.empty() || !spec.multi_site() || zs.spec->site_secret.empty()) {
          host = pod_ip(p);  // the operator reaches pods of its own site directly
          admin_port = spec.admin_port;
        }
        // Running is enough: a node is Ready (GET /ready) only once it is
        // connected and in an applied layout, which the operator does.
        if (!host.empty() && pod_running(p))
          zs.admin_url[i] = "http://" + host + ":" + std::to_string(admin_port);
        if (!spec.multi_site() && !pod_ip(p).empty())
          zs.public_rpc[i] = pod_ip(p) + ":" + std::to_string(spec.rpc_port);
      }
    }
  }

  // Node ids, from each ready node's admin API.
  std::optional<admin::admin_client> any_node;
  for (auto& zs : zones)
    for (auto& [i, url] : zs.admin_url) {
      admin::admin_client a(admin::endpoint{url, admin_token, d_.may_write});
      auto info = a.node_info();
      if (!info) {
        // A container that just started may not listen yet: not a problem.
        if (running_for(zs.pods[i]) > std::chrono::seconds(20))
          problems.push_back("node " + spec.name + "-" + zs.spec->name + "-" + std::to_string(i) +
                             " admin API: " + info.error().message);
        continue;
      }
      zs.node_id[i] = info->id;
      if (!any_node) any_node.emplace(admin::endpoint{url, admin_token, d_.may_write});
    }

  json layout;
  std::optional<admin::cluster_health> health;
  json history;
  if (any_node) {
    // Connect every node we know to the one we talk to; the others learn of
    // them by gossip.
    auto status = any_node->cluster_status();
    std::set<std::string> up;
    if (status && status->contains("nodes"))
      for (const auto& n : (*status)["nodes"])
        if (n.value("isUp", false)) up.insert(n.value("id", ""));
    std::vector<std::string> peers;
    for (auto& zs : zones)
      for (auto& [i, id] : zs.node_id)
        if (!up.count(id) && zs.public_rpc.count(i)) peers.push_back(id + "@" + zs.public_rpc[i]);
    if (!peers.empty()) {
      auto r = any_node->connect(peers);
      if (!r)
        problems.push_back("connecting nodes: " + r.error().message);
      else
        for (const auto& c : *r)
          if (!c.ok) problems.push_back("connecting " + c.peer + ": " + c.error);
    }
    auto l = any_node->layout();
    if (l) layout = *l;
    auto h = any_node->health();
    if (h) health = *h;
    auto hist = any_node->call("GET", "/v2/GetClusterLayoutHistory");
    if (hist) history = *hist;
  }

  // Node ids of pods that are not up, from the layout's tags.
  auto by_tag = ids_by_tag(layout);
  for (auto& zs : zones)
    for (int i = 0; i < std::max(zs.current, zs.spec->nodes); ++i) {
      std::string pod = spec.name + "-" + zs.spec->name + "-" + std::to_string(i);
      if (!zs.node_id.count(i) && by_tag.count(pod)) zs.node_id[i] = by_tag[pod];
    }

  // The layout we want: every node of ordinal < nodes; the rest leave.
  std::vector<admin::desired_node> want;
  std::set<std::string> leaving;
  bool all_known = true;
  for (auto& zs : zones) {
    const auto& z = *zs.spec;
    for (int i = 0; i < z.nodes; ++i) {
      std::string pod = spec.name + "-" + z.name + "-" + std::to_string(i);
      if (zs.node_id.count(i))
        want.push_back({zs.node_id[i], z.name, z.data_bytes, {pod}});
      else
        all_known = false;
    }
    for (int i = z.nodes; i < zs.current; ++i)
      if (zs.node_id.count(i)) leaving.insert(zs.node_id[i]);
  }
  std::vector<admin::desired_node> after = want;
  // Nodes not yet up count as they will be there, for the feasibility check.
  int placeholder = 0;
  for (auto& zs : zones)
    for (int i = 0; i < zs.spec->nodes; ++i)
      if (!zs.node_id.count(i)) {
        char id[65];
        std::snprintf(id, sizeof id, "%056x%08x", 0u, static_cast<unsigned>(++placeholder));
        after.push_back({id, zs.spec->name, zs.spec->data_bytes, {}});
      }
  auto feasible = admin::check_feasible(after, spec.replication_factor, spec.zone_redundancy);
  bool scale_down_blocked = false;
  if (!feasible) {
    if (!leaving.empty() || std::any_of(zones.begin(), zones.end(), [](const zone_state& zs) {
          return zs.spec->nodes < zs.current;
        })) {
      scale_down_blocked = true;
      leaving.clear();
      conds.set("ScaleDownBlocked", true, "InsufficientNodes",
                "scaling down is refused: " + feasible.error().message);
      if (conds.changed("ScaleDownBlocked"))
        d_.events.warning(obj, "ScaleDownBlocked", feasible.error().message);
    } else {
      conds.set("LayoutApplied", false, "LayoutInfeasible", feasible.error().message);
      if (conds.changed("LayoutApplied"))
        d_.events.warning(obj, "LayoutInfeasible", feasible.error().message);
    }
  } else {
    conds.set("ScaleDownBlocked", false, "None", "");
  }

  // Stage and apply layout changes once every wanted node is known.
  uint64_t layout_version = layout.is_object() ? layout.value("version", uint64_t{0}) : 0;
  std::string preview_text = old_status.value("layoutPreview", "");
  if (any_node && layout.is_object() && (feasible || scale_down_blocked)) {
    std::vector<admin::desired_node> w = want;
    if (scale_down_blocked)  // keep the nodes that would leave
      for (auto& zs : zones)
        for (int i = zs.spec->nodes; i < zs.current; ++i)
          if (zs.node_id.count(i))
            w.push_back({zs.node_id[i],
                         zs.spec->name,
                         zs.spec->data_bytes,
                         {spec.name + "-" + zs.spec->name + "-" + std::to_string(i)}});
    auto plan = admin::plan_layout(layout, w, leaving);
    bool pending_staged =
        layout.contains("stagedRoleChanges") && !layout["stagedRoleChanges"].empty();
    if (!plan.empty() && all_known) {
      auto staged = any_node->stage_roles(plan.changes);
      if (!staged) return std::move(staged).error();
      pending_staged = true;
      d_.events.normal(obj, "LayoutStaged", plan.summary);
    }
    if (pending_staged) ops.insert("layout_change");
    if (pending_staged && all_known) {
      auto pv = any_node->preview();
      if (!pv) {
        std::string msg = pv.error().message;
        conds.set("LayoutApplied", false, "LayoutInfeasible", msg);
        if (conds.changed("LayoutApplied")) d_.events.warning(obj, "LayoutInfeasible", msg);
      } else {
        {
          preview_text = join_lines(pv->value("message", json::array()));
          if (spec.layout_policy == "Manual") {
            conds.set("LayoutApplied", false, "AwaitingManualApply",
                      "a layout change is staged; apply it with `garage layout apply`");
            if (conds.changed("LayoutApplied"))
              d_.events.normal(obj, "LayoutPreview", preview_text);
          } else {
            auto applied = any_node->apply_layout(layout_version + 1);
            if (!applied) return std::move(applied).error();
            layout_version += 1;
            d_.events.normal(
                obj, "LayoutApplied",
                "layout version " + std::to_string(layout_version) + "\n" + preview_text);
            progressing = true;
            progress.push_back("layout version " + std::to_string(layout_version) + " applied");
          }
        }
      }
    } else if (!pending_staged && plan.empty() && all_known) {
      conds.set("LayoutApplied", true, "Applied",
                "layout version " + std::to_string(layout_version) + " has every node");
      preview_text.clear();
    }
    if (!all_known) {
      progressing = true;
      progress.push_back("waiting for every node to be up before changing the layout");
    }
  }

  // Is the data where the current layout wants it? One live layout version
  // (older ones drained and synced) and every partition with all its copies.
  bool settled = history.is_object() && history.contains("versions") &&
                 history["versions"].size() == 1 && health &&
                 health->partitions_all_ok == health->partitions;

  // Replicas of each StatefulSet and rolling upgrades.
  bool all_pods_ready = true;
  for (auto& zs : zones)
    for (auto& [i, p] : zs.pods)
      if (i < zs.spec->nodes && !pod_ready(p)) all_pods_ready = false;
  bool rolled_one = false;
  for (auto& zs : zones) {
    if (!zs.kube) continue;
    const auto& z = *zs.spec;
    zs.target = z.nodes;
    if (z.nodes > zs.current) {
      ops.insert("scale_up");
      if (spec.multi_site() && !zs.services_ready) {
        zs.target = zs.current;  // the new nodes need their address in their config first
        progressing = true;
        progress.push_back("zone " + z.name + ": waiting for the new nodes' Service addresses");
      } else if (zs.current > 0) {
        progress.push_back("zone " + z.name + ": scaling up to " + std::to_string(z.nodes));
        progressing = true;
      }
    } else if (z.nodes < zs.current) {
      ops.insert("scale_down");
      progressing = true;
      bool still_in_layout = false;
      auto ids = role_ids(layout);
      for (int i = z.nodes; i < zs.current; ++i)
        if (zs.node_id.count(i) && ids.count(zs.node_id[i])) still_in_layout = true;
      if (scale_down_blocked || still_in_layout || !settled) {
        zs.target = zs.current;
        progress.push_back("zone " + z.name + ": scaling down to " + std::to_string(z.nodes) +
                           (scale_down_blocked
                                ? " is refused"
                                : ", waiting until the leaving nodes' data has moved"));
      } else {
        progress.push_back("zone " + z.name + ": data moved, removing " +
                           std::to_string(zs.current - z.nodes) + " node(s)");
        d_.events.normal(obj, "ScalingDown",
                         "zone " + z.name + ": data moved off the leaving nodes, stopping them");
      }
    }
    // Rolling upgrade: one pod of the whole cluster at a time, only while
    // every node is ready and every partition has all its copies.
    int partition = zs.target;
    std::string update_rev =
        zs.sts.is_object() ? zs.sts.value("status", json::object()).value("updateRevision", "")
                           : "";
    std::vector<int> old;
    for (auto& [i, p] : zs.pods) {
      std::string rev =
          p["metadata"].value("labels", json::object()).value("controller-revision-hash", "");
      if (!update_rev.empty() && !rev.empty() && rev != update_rev && i < zs.target)
        old.push_back(i);
    }
    if (!old.empty()) {
      ops.insert("upgrade");
      progressing = true;
      int stored = zs.sts["spec"]
                       .value("updateStrategy", json::object())
                       .value("rollingUpdate", json::object())
                       .value("partition", zs.current);
      bool healthy_now =
          all_pods_ready && health && health->partitions_all_ok == health->partitions;
      if (!rolled_one && healthy_now) {
        partition = *std::max_element(old.begin(), old.end());
        std::string pod = spec.name + "-" + z.name + "-" + std::to_string(partition);
        if (partition != stored)
          d_.events.normal(obj, "UpgradingNode", "restarting " + pod + " with the new template");
        progress.push_back("rolling upgrade: " + pod);
      } else {
        partition = std::min(stored, zs.target);
        progress.push_back("rolling upgrade of zone " + z.name +
                           " waits for a healthy cluster before the next node");
      }
      rolled_one = true;
    }
    // The ConfigMap (one file per node) and the StatefulSet.
    std::map<std::string, std::string> addrs;
    if (spec.multi_site() && spec.exposure_type == "LoadBalancer")
      for (auto& [i, a] : zs.public_rpc)
        addrs[spec.name + "-" + z.name + "-" + std::to_string(i)] = a;
    if (zs.removed && zs.current == 0 && zs.pods.empty()) {
      // A removed zone whose nodes are gone: its objects go too.
      std::string sts_name = spec.name + "-" + z.name;
      bool had = zs.sts.is_object();
      (void)zs.kube->remove(k8s::kinds::stateful_set(), z.ns, sts_name);
      (void)zs.kube->remove(k8s::kinds::config_map(), z.ns, sts_name + "-config");
      (void)zs.kube->remove(k8s::kinds::service(), z.ns, sts_name);
      if (had) d_.events.normal(obj, "ZoneRemoved", "zone " + z.name + " removed");
      zs.gone = true;
    } else {
      int files = std::max(zs.target, zs.current);
      json cm = cluster::config_map(spec, z, files, addrs);
      GARAGE_TRY(apply(*zs.kube, k8s::kinds::config_map(), own(cm, zs)));
      json sts = cluster::stateful_set(spec, z, zs.target, cluster::config_hash(cm), partition);
      GARAGE_TRY(apply(*zs.kube, k8s::kinds::stateful_set(), own(sts, zs)));
    }
    // After a scale-down: the volumes (and per-node Service) of the nodes
    // that left, once their pods are gone. Never while the StatefulSet still
    // has them (data not moved yet).
    if (zs.target == z.nodes) {
      const std::string sts_name = spec.name + "-" + z.name;
      for (auto& [i, p] : zs.pods)
        if (i >= zs.target) progressing = true;  // still terminating
      auto pvcs = zs.kube->list(k8s::kinds::persistent_volume_claim(), z.ns);
      if (pvcs)
        for (const auto& pvc : pvcs->items) {
          std::string n = pvc["metadata"].value("name", "");
          if (pvc["metadata"].contains("deletionTimestamp")) continue;
          for (const std::string v : {"meta-", "data-"}) {
            std::string prefix = v + sts_name + "-";
            if (!n.starts_with(prefix)) continue;
            std::string rest = n.substr(prefix.size());
            if (rest.empty() || rest.find_first_not_of("0123456789") != std::string::npos) continue;
            int i = std::stoi(rest);
            if (i < zs.target || zs.pods.count(i)) continue;
            auto r = zs.kube->remove(k8s::kinds::persistent_volume_claim(), z.ns, n);
            if (!r && !r.error().is_not_found())
              problems.push_back("delete volume " + n + ": " + r.error().message);
            else
              d_.events.normal(obj, "VolumeDeleted",
                               "volume " + n + " of a node that left the cluster deleted");
            if (spec.multi_site())
              (void)zs.kube->remove(k8s::kinds::service(), z.ns, sts_name + "-" + rest);
          }
        }
    }
  }
  for (const char* op : {"scale_up", "scale_down", "upgrade", "layout_change"})
    d_.m.set_operation(ns, name, op, ops.count(op) > 0);

  // Status.
  int nodes_asked = spec.total_nodes(), nodes_ready = 0;
  json zstat = json::array();
  for (auto& zs : zones) {
    if (zs.gone) continue;
    int ready = 0;
    for (auto& [i, p] : zs.pods)
      if (i < zs.spec->nodes && pod_ready(p)) ++ready;
    nodes_ready += ready;
    zstat.push_back({{"name", zs.spec->name},
                     {"site", site_label(*zs.spec)},
                     {"siteKey", zs.spec->site_secret_key},
                     {"namespace", zs.spec->ns},
                     {"nodes", zs.spec->nodes},
                     {"nodesReady", ready},
                     {"capacity", zs.spec->data_bytes * static_cast<uint64_t>(zs.spec->nodes)}});
  }
  int min_follow = -1;  // status.nodesPerZone: fewest running in zones following nodesPerZone
  for (auto& zs : zones) {
    if (zs.removed) continue;
    int running = 0;
    for (auto& [i, p] : zs.pods)
      if (pod_ready(p)) ++running;
    if (min_follow < 0 || running < min_follow) min_follow = running;
  }
  std::string health_s = "Unknown";
  if (health) {
    if (health->status == "healthy")
      health_s = "Healthy";
    else if (health->status == "degraded")
      health_s = "Degraded";
    else
      health_s = "Unavailable";
  }
  int connected = health ? static_cast<int>(health->connected_nodes) : 0;

  if (!site_errors.empty()) {
    conds.set("SitesReachable", false, "SiteUnreachable", site_errors.front());
    if (conds.changed("SitesReachable"))
      d_.events.warning(obj, "SiteUnreachable", site_errors.front());
    problems.insert(problems.begin(), site_errors.begin(), site_errors.end());
  } else {
    conds.set("SitesReachable", true, "Reachable", "every site answers");
    if (conds.changed("SitesReachable") && old_status.contains("conditions"))
      d_.events.normal(obj, "SitesReachable", "every site answers again");
  }
  bool connected_all = health && connected >= nodes_asked;
  conds.set("NodesConnected", connected_all, connected_all ? "Connected" : "NotConnected",
            std::to_string(connected) + " of " + std::to_string(nodes_asked) + " nodes connected");
  if (health_s != "Healthy")
    problems.push_back("cluster health: " + health_s +
                       (health ? " (" + std::to_string(health->partitions_all_ok) + "/" +
                                     std::to_string(health->partitions) +
                                     " partitions fully replicated)"
                               : ""));
  if (problems.empty())
    conds.set("Degraded", false, "AsExpected", "");
  else {
    conds.set("Degraded", true, site_errors.empty() ? "Unhealthy" : "SiteUnreachable",
              problems.front());
    if (conds.changed("Degraded")) d_.events.warning(obj, "Degraded", problems.front());
  }
  std::string progress_msg;
  for (auto& p : progress) progress_msg += (progress_msg.empty() ? "" : "; ") + p;
  conds.set("Progressing", progressing, progressing ? "Reconciling" : "Stable", progress_msg);
  const json* la = conds.find("LayoutApplied");
  bool layout_ok = la && la->value("status", "") == "True";
  bool ready = nodes_ready == nodes_asked && layout_ok && health_s == "Healthy" && !progressing &&
               site_errors.empty();
  std::string why =
      ready ? "every node is up and the layout holds them all"
            : (!site_errors.empty()        ? site_errors.front()
               : nodes_ready < nodes_asked ? std::to_string(nodes_ready) + " of " +
                                                 std::to_string(nodes_asked) + " nodes ready"
               : !layout_ok            ? (la ? la->value("message", "") : "layout not applied yet")
               : health_s != "Healthy" ? "cluster health is " + health_s
                                       : progress_msg);
  conds.set("Ready", ready, ready ? "Ready" : "NotReady", why);
  if (conds.changed("Ready"))
    ready ? d_.events.normal(obj, "Ready", why) : d_.events.warning(obj, "NotReady", why);

  json st = old_status;
  st["observedGeneration"] = generation;
  st["conditions"] = conds.to_json();
  st["health"] = health_s;
  st["layoutVersion"] = layout_version;
  if (preview_text.empty())
    st["layoutPreview"] = nullptr;
  else
    st["layoutPreview"] = preview_text;
  st["nodes"] = nodes_asked;
  st["nodesReady"] = nodes_ready;
  st["nodesConnected"] = connected;
  st["nodesPerZone"] = std::max(0, min_follow);
  st["selector"] = cluster::pod_selector(spec);
  if (health)
    st["partitions"] = {{"total", health->partitions},
                        {"healthy", health->partitions_all_ok},
                        {"quorum", health->partitions_quorum}};
  st["zones"] = zstat;
  // Endpoints: the API Service of the cluster's namespace in the operator's site.
  for (auto& zs : zones) {
    if (!zs.kube) continue;
    auto svc = zs.kube->get(k8s::kinds::service(), zs.spec->ns, spec.name);
    if (!svc) continue;
    std::string ip = (*svc)["spec"].value("clusterIP", "");
    if (ip.empty() || ip == "None") continue;
    json ep = {{"s3", "http://" + ip + ":" + std::to_string(spec.s3_port)},
               {"admin", "http://" + ip + ":" + std::to_string(spec.admin_port)}};
    if (spec.web_enabled) ep["web"] = "http://" + ip + ":" + std::to_string(spec.web_port);
    st["endpoints"] = ep;
    if (zs.spec->site_secret.empty()) break;  // prefer the operator's own site
  }
  GARAGE_TRY(write_status(local, gcl, obj, st));
  d_.m.set_cluster(ns, name, layout_version, nodes_asked, nodes_ready, connected,
                   health ? health->partitions : 0, health ? health->partitions_all_ok : 0,
                   health ? health->partitions_quorum : 0);
  return reconcile_result{progressing || !ready ? busy_requeue : idle_requeue};
}

}  // namespace garage::op
