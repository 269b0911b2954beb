#include "k8s/client.h"

namespace garage::k8s {

namespace {

constexpr std::string_view json_type = "application/json";

const char* patch_content_type(patch_type t) {
  switch (t) {
    case patch_type::merge:
      return "application/merge-patch+json";
    case patch_type::json:
      return "application/json-patch+json";
    case patch_type::strategic:
      return "application/strategic-merge-patch+json";
  }
  return "application/merge-patch+json";
}

api_error bad_response(std::string message) {
  return api_error{0, std::string(transport_reason::bad_response), std::move(message)};
}

std::string string_at(const json& j, const char* a, const char* b) {
  auto x = j.find(a);
  if (x == j.end() || !x->is_object()) return {};
  auto y = x->find(b);
  return y != x->end() && y->is_string() ? y->get<std::string>() : std::string();
}

}  // namespace

api_result<json> client::call(const http_request& req) {
  auto resp = transport_->send(req);
  if (!resp) return std::move(resp).error();
  if (resp->status < 200 || resp->status > 299)
    return error_from_response(resp->status, resp->body);
  if (resp->body.empty()) return json::object();
  auto j = json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return bad_response(req.method + " " + req.target + ": response is not JSON");
  return j;
}

api_result<json> client::get(const resource_kind& kind, std::string_view ns, std::string_view name,
                             std::string_view subresource) {
  return call({"GET", object_path(kind, ns, name, subresource), "", ""});
}

api_result<object_list> client::list(const resource_kind& kind, std::string_view ns,
                                     const list_options& o) {
  auto target = collection_path(kind, ns) +
                query_string({{"labelSelector", o.label_selector},
                              {"fieldSelector", o.field_selector},
                              {"resourceVersion", o.resource_version},
                              {"limit", o.limit > 0 ? std::to_string(o.limit) : ""},
                              {"continue", o.continue_token}});
  auto j = call({"GET", target, "", ""});
  if (!j) return std::move(j).error();
  auto items = j->find("items");
  if (items == j->end() || !(items->is_array() || items->is_null()))
    return bad_response("GET " + target + ": not a list");
  object_list out;
  if (items->is_array())
    for (auto& item : *items) out.items.push_back(std::move(item));
  out.resource_version = string_at(*j, "metadata", "resourceVersion");
  out.continue_token = string_at(*j, "metadata", "continue");
  return out;
}

api_result<object_list> client::list_all(const resource_kind& kind, std::string_view ns,
                                         list_options options) {
  object_list all;
  for (bool first = true;; first = false) {
    auto page = list(kind, ns, options);
    if (!page) return std::move(page).error();
    // Every page of a list shares the first page's snapshot.
    if (first) all.resource_version = page->resource_version;
    for (auto& item : page->items) all.items.push_back(std::move(item));
    if (page->continue_token.empty()) break;
    options.continue_token = page->continue_token;
  }
  return all;
}

api_result<watch_end> client::watch(const resource_kind& kind, std::string_view ns,
                                    const watch_options& o, const watch_handler& handler,
                                    std::stop_token stop) {
  auto target = collection_path(kind, ns) +
                query_string({{"watch", "true"},
                              {"resourceVersion", o.resource_version},
                              {"labelSelector", o.label_selector},
                              {"fieldSelector", o.field_selector},
                              {"allowWatchBookmarks", o.allow_bookmarks ? "true" : ""},
                              {"timeoutSeconds",
                               o.timeout_seconds > 0 ? std::to_string(o.timeout_seconds) : ""}});
  watch_end end{o.resource_version, false};
  std::optional<api_error> failed;
  line_splitter lines;
  auto on_line = [&](std::string_view line) {
    auto ev = parse_watch_event(line);
    if (!ev) {
      failed = std::move(ev).error();
      return false;
    }
    if (ev->type == watch_event_type::error) {
      failed = error_from_status_object(ev->object);
      return false;
    }
    auto rv = string_at(ev->object, "metadata", "resourceVersion");
    if (!rv.empty()) end.resource_version = rv;
    if (!handler(*ev)) {
      end.stopped = true;
      return false;
    }
    return true;
  };
  auto resp = transport_->stream(
      {"GET", target, "", ""}, [&](std::string_view data) { return lines.feed(data, on_line); },
      stop);
  if (!resp) return std::move(resp).error();
  if (resp->status < 200 || resp->status > 299)
    return error_from_response(resp->status, resp->body);
  if (failed) return std::move(*failed);
  if (!end.stopped && !lines.rest().empty()) on_line(lines.rest());  // a last line without "\n"
  if (failed) return std::move(*failed);
  return end;
}

api_result<json> client::create(const resource_kind& kind, std::string_view ns, const json& object,
                                std::string_view field_manager) {
  return call(
      {"POST",
       collection_path(kind, ns) + query_string({{"fieldManager", std::string(field_manager)}}),
       std::string(json_type), object.dump()});
}

api_result<json> client::replace(const resource_kind& kind, std::string_view ns,
                                 std::string_view name, const json& object,
                                 std::string_view subresource, std::string_view field_manager) {
  return call({"PUT",
               object_path(kind, ns, name, subresource) +
                   query_string({{"fieldManager", std::string(field_manager)}}),
               std::string(json_type), object.dump()});
}

api_result<json> client::remove(const resource_kind& kind, std::string_view ns,
                                std::string_view name, const delete_options& o) {
  json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (o.propagation) {
    const char* p = *o.propagation == propagation_policy::foreground ? "Foreground"
                    : *o.propagation == propagation_policy::orphan   ? "Orphan"
                                                                     : "Background";
    body["propagationPolicy"] = p;
  }
  if (!o.precondition_resource_version.empty())
    body["preconditions"] = {{"resourceVersion", o.precondition_resource_version}};
  if (o.grace_period_seconds) body["gracePeriodSeconds"] = *o.grace_period_seconds;
  return call({"DELETE", object_path(kind, ns, name), std::string(json_type), body.dump()});
}

api_result<json> client::patch(const resource_kind& kind, std::string_view ns,
                               std::string_view name, patch_type type, const json& patch,
                               std::string_view subresource, std::string_view field_manager) {
  return call({"PATCH",
               object_path(kind, ns, name, subresource) +
                   query_string({{"fieldManager", std::string(field_manager)}}),
               patch_content_type(type), patch.dump()});
}

api_result<json> client::apply(const resource_kind& kind, std::string_view ns, const json& object,
                               const apply_options& o, std::string_view subresource) {
  auto refuse = [](std::string why) {
    return api_error{0, std::string(transport_reason::bad_request), "apply: " + std::move(why)};
  };
  if (o.field_manager.empty()) return refuse("a field manager is required");
  auto name = string_at(object, "metadata", "name");
  if (name.empty()) return refuse("the object has no metadata.name");
  if (object.value("apiVersion", "") != kind.api_version())
    return refuse("apiVersion must be " + kind.api_version());
  if (!object.contains("kind") || !object["kind"].is_string())
    return refuse("the object has no kind");
  // JSON is YAML: the apply content type takes it as it is.
  return call(
      {"PATCH",
       object_path(kind, ns, name, subresource) +
           query_string({{"fieldManager", o.field_manager}, {"force", o.force ? "true" : ""}}),
       "application/apply-patch+yaml", object.dump()});
}

api_result<json> client::get_path(const std::string& path) { return call({"GET", path, "", ""}); }

}  // namespace garage::k8s
