// The admin API client over cpprestsdk. This and k8s/rest_transport.cc are
// the operator's only files that include cpprestsdk (and, through it, Asio).
#include "garage/admin_client.h"

// clang-format off
#include <utility>
#include <cpprest/http_client.h>
// clang-format on

#include <system_error>

namespace garage::op::admin {

namespace http = web::http;
namespace hc = web::http::client;
using nlohmann::json;

namespace {

// The URL without a trailing slash, for messages and as the base URI.
std::string trim_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

errc status_errc(int status) {
  switch (status) {
    case 400:
    case 405:
      return errc::invalid_argument;
    case 401:
      return errc::unauthenticated;
    case 403:
      return errc::permission_denied;
    case 404:
      return errc::not_found;
    case 409:
      return errc::conflict;
    case 413:
      return errc::too_large;
    case 501:
      return errc::not_implemented;
    case 503:
      return errc::unavailable;
    case 504:
      return errc::timeout;
    default:
      return errc::internal;
  }
}

std::string str_or(const json& j, const char* key, std::string dflt = {}) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return dflt;
  return it->get<std::string>();
}

uint64_t u64_or(const json& j, const char* key, uint64_t dflt = 0) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return dflt;
  return it->get<uint64_t>();
}

std::optional<uint64_t> opt_u64(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<uint64_t>();
}

}  // namespace

error http_error(const std::string& url, const std::string& method, const std::string& path,
                 int status, const std::string& body) {
  std::string what;
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object() && doc.contains("message")) {
    what = str_or(doc, "code");
    if (!what.empty()) what += ": ";
    what += str_or(doc, "message");
  } else {
    what = body.substr(0, 300);
    while (!what.empty() && (what.back() == '\n' || what.back() == '\r')) what.pop_back();
  }
  std::string path_only = path.substr(0, path.find('?'));
  return error(status_errc(status), url + " " + method + " " + path_only + ": " +
                                        std::to_string(status) +
                                        (what.empty() ? std::string() : " " + what));
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

struct admin_client::impl {
  std::unique_ptr<hc::http_client> client;
  std::string bad_url;  // why the URL could not be used, when client is null
};

admin_client::admin_client(endpoint where, std::chrono::milliseconds timeout)
    : where_(std::move(where)), timeout_(timeout), impl_(std::make_unique<impl>()) {
  where_.url = trim_url(where_.url);
  try {
    hc::http_client_config cfg;
    cfg.set_timeout(timeout_);
    impl_->client = std::make_unique<hc::http_client>(web::uri(where_.url), cfg);
  } catch (const std::exception& e) {
    impl_->bad_url = e.what();
  }
}

admin_client::~admin_client() = default;
admin_client::admin_client(admin_client&&) noexcept = default;
admin_client& admin_client::operator=(admin_client&&) noexcept = default;

result<json> admin_client::call(const std::string& method, const std::string& path_and_query,
                                const std::optional<json>& body) {
  if (!impl_) return error(errc::internal, "admin_client used after being moved from");
  if (!impl_->client)
    return error(errc::invalid_argument,
                 "bad admin API URL '" + where_.url + "': " + impl_->bad_url);
  if (method != "GET" && where_.may_write && !where_.may_write())
    return error(errc::unavailable, "not the leader: " + method + " " + path_and_query + " to " +
                                        where_.url + " refused");
  int status = 0;
  std::string text;
  try {
    http::http_request req(method);
    req.set_request_uri(path_and_query);
    if (!where_.token.empty()) req.headers().add("Authorization", "Bearer " + where_.token);
    req.headers().add("Accept", "application/json");
    if (body) req.set_body(body->dump(), "application/json");
    auto resp = impl_->client->request(req).get();
    status = resp.status_code();
    text = resp.extract_utf8string(/*ignore_content_type=*/true).get();
  } catch (const web::uri_exception& e) {
    return error(errc::invalid_argument,
                 where_.url + ": bad request path '" + path_and_query + "': " + e.what());
  } catch (const http::http_exception& e) {
    std::string what = e.what();
    bool timed_out = e.error_code() == std::errc::timed_out ||
                     what.find("timed out") != std::string::npos ||
                     what.find("Timeout") != std::string::npos;
    if (timed_out)
      return error(errc::timeout, where_.url + ": no answer within " +
                                      std::to_string(timeout_.count()) + " ms (" + what + ")");
    return error(errc::unavailable, where_.url + ": cannot reach the node: " + what);
  } catch (const std::exception& e) {
    return error(errc::unavailable, where_.url + ": " + e.what());
  }
  if (status < 200 || status > 299)
    return http_error(where_.url, method, path_and_query, status, text);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return json(nullptr);
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return error(errc::internal, where_.url + " " + method + " " + path_and_query +
                                     ": the answer is not JSON: " + text.substr(0, 200));
  return doc;
}

result<node_info> admin_client::node_info() {
  GARAGE_ASSIGN_OR_RETURN(json ni, call("GET", "/v2/GetNodeInfo?node=self"));
  const json* succ = ni.is_object() && ni.contains("success") ? &ni["success"] : nullptr;
  if (!succ || !succ->is_object() || succ->size() != 1)
    return error(errc::internal, where_.url + ": GetNodeInfo?node=self answered no node: " +
                                     ni.dump().substr(0, 300));
  admin::node_info out;
  out.id = succ->begin().key();
  const json& info = succ->begin().value();
  out.version = str_or(info, "garageVersion");
  out.db_engine = str_or(info, "dbEngine");
  GARAGE_ASSIGN_OR_RETURN(json st, cluster_status());
  out.layout_version = u64_or(st, "layoutVersion");
  if (st.contains("nodes") && st["nodes"].is_array()) {
    for (const auto& n : st["nodes"]) {
      if (str_or(n, "id") != out.id) continue;
      out.hostname = str_or(n, "hostname");
      out.rpc_addr = str_or(n, "addr");
      if (out.version.empty()) out.version = str_or(n, "garageVersion");
      auto role = n.find("role");
      if (role != n.end() && role->is_object()) {
        out.zone = str_or(*role, "zone");
        out.capacity = opt_u64(*role, "capacity");
      }
      auto data = n.find("dataPartition");
      if (data != n.end() && data->is_object()) {
        out.data_available = opt_u64(*data, "available");
        out.data_total = opt_u64(*data, "total");
      }
      break;
    }
  }
  return out;
}

result<json> admin_client::cluster_status() { return call("GET", "/v2/GetClusterStatus"); }

result<cluster_health> admin_client::health() {
  GARAGE_ASSIGN_OR_RETURN(json j, call("GET", "/v2/GetClusterHealth"));
  if (!j.is_object() || !j.contains("status"))
    return error(errc::internal,
                 where_.url + ": GetClusterHealth answered no status: " + j.dump().substr(0, 300));
  cluster_health h;
  h.status = str_or(j, "status");
  h.known_nodes = u64_or(j, "knownNodes");
  h.connected_nodes = u64_or(j, "connectedNodes");
  h.storage_nodes = u64_or(j, "storageNodes");
  h.storage_nodes_ok = u64_or(j, "storageNodesOk");
  h.partitions = u64_or(j, "partitions");
  h.partitions_quorum = u64_or(j, "partitionsQuorum");
  h.partitions_all_ok = u64_or(j, "partitionsAllOk");
  return h;
}

result<json> admin_client::layout() { return call("GET", "/v2/GetClusterLayout"); }

result<std::vector<connect_result>> admin_client::connect(const std::vector<std::string>& peers) {
  json body = json::array();
  for (const auto& p : peers) body.push_back(p);
  GARAGE_ASSIGN_OR_RETURN(json j, call("POST", "/v2/ConnectClusterNodes", body));
  if (!j.is_array() || j.size() != peers.size())
    return error(errc::internal, where_.url + ": ConnectClusterNodes answered " +
                                     j.dump().substr(0, 300) + " for " +
                                     std::to_string(peers.size()) + " peers");
  std::vector<connect_result> out;
  for (size_t i = 0; i < peers.size(); ++i) {
    connect_result r;
    r.peer = peers[i];
    auto s = j[i].find("success");
    r.ok = s != j[i].end() && s->is_boolean() && s->get<bool>();
    r.error = str_or(j[i], "error");
    out.push_back(std::move(r));
  }
  return out;
}

result<json> admin_client::stage_roles(const std::vector<role_change>& changes) {
  json roles = json::array();
  for (const auto& c : changes) {
    json r;
    r["id"] = c.id;
    if (c.remove) {
      r["remove"] = true;
    } else {
      r["zone"] = c.zone;
      r["capacity"] = c.capacity ? json(*c.capacity) : json(nullptr);
      r["tags"] = c.tags;
    }
    roles.push_back(std::move(r));
  }
  return call("POST", "/v2/UpdateClusterLayout", json{{"roles", std::move(roles)}});
}

result<json> admin_client::stage_zone_redundancy(std::optional<int> at_least) {
  json zr = at_least ? json{{"atLeast", *at_least}} : json("maximum");
  return call("POST", "/v2/UpdateClusterLayout",
              json{{"parameters", json{{"zoneRedundancy", std::move(zr)}}}});
}

result<json> admin_client::preview() {
  GARAGE_ASSIGN_OR_RETURN(json j, call("POST", "/v2/PreviewClusterLayoutChanges"));
  if (j.is_object() && j.contains("error") && j["error"].is_string())
    return error(errc::invalid_argument, where_.url + ": the staged layout cannot be computed: " +
                                             j["error"].get<std::string>());
  return j;
}

result<json> admin_client::apply_layout(uint64_t version) {
  return call("POST", "/v2/ApplyClusterLayout", json{{"version", version}});
}

result<void> admin_client::revert_layout() {
  GARAGE_TRY(call("POST", "/v2/RevertClusterLayout"));
  return ok();
}

}  // namespace garage::op::admin
