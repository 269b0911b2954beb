#include "web/web_server.h"

#include <vector>

#include "api/common/background.h"
#include "api/common/byte_range.h"
#include "api/common/conditional.h"
#include "model/bucket_ops.h"
#include "model/cors.h"
#include "model/object_ops.h"
#include "model/store.h"
#include "model/website_config.h"
#include "util/log.h"
#include "util/random.h"
#include "web/website_request.h"

namespace garage::web {

namespace {

using header_list = std::vector<std::pair<std::string, std::string>>;

// The bucket a Host names, with its parsed website and CORS configuration.
struct site {
  std::string name;
  std::string bucket_id;
  std::optional<model::website_config> website;  // nullopt: not a website
  std::optional<model::cors_config> cors;
};

// An object and (for block data) its block list, read together.
struct snapshot {
  std::optional<model::object> obj;
  std::optional<model::version> ver;
  const model::object_version* current() const {
    const auto* v = obj ? obj->current() : nullptr;
    return v && v->is_data() ? v : nullptr;
  }
};

result<snapshot> read_object(model::store& s, const std::string& bucket_id,
                             const std::string& key) {
  for (int attempt = 0;; ++attempt) {
    snapshot snap;
    GARAGE_ASSIGN_OR_RETURN(snap.obj, model::get_object(s, bucket_id, key));
    const auto* cur = snap.current();
    if (!cur || cur->data != model::version_data::blocks) return snap;
    auto ver = model::get_version_for_read(s, cur->id, cur->meta.size);
    if (ver) {
      snap.ver = std::move(*ver);
      return snap;
    }
    // Released by an overwrite in between: read again.
    if (ver.error().code != errc::not_found || attempt == 3) return std::move(ver).error();
  }
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

struct web_api::rep {
  rep(http::runtime& r, model::store& s, const config& c) : rt(r), store(s), cfg(c) {}
  http::runtime& rt;
  model::store& store;
  const config& cfg;

  http::task<void> handle(http::exchange& ex);
};

namespace {

// What one request carries through its handling.
struct request {
  http::exchange& ex;
  http::runtime& rt;
  model::store& store;
  std::string request_id;
  header_list cors;  // Access-Control-* for an allowed Origin
  bool head = false;

  http::response_head response(unsigned status) const {
    http::response_head h;
    h.status = status;
    h.headers.set("x-amz-request-id", request_id);
    for (const auto& [n, v] : cors) h.headers.set(n, v);
    return h;
  }
};

http::task<void> respond_page(request& r, unsigned status, std::string_view title,
                              std::string_view message, header_list extra = {}) {
  auto h = r.response(status);
  for (const auto& [n, v] : extra) h.headers.set(n, v);
  h.headers.set("content-type", "text/html; charset=utf-8");
  std::string body;
  if (!r.head) {
    body = "<html><head><title>" + std::to_string(status) + " " + html_escape(title) +
           "</title></head><body><h1>" + std::to_string(status) + " " + html_escape(title) +
           "</h1><ul><li>Message: " + html_escape(message) + "</li><li>RequestId: " + r.request_id +
           "</li></ul></body></html>\n";
  }
  auto sent = co_await r.ex.respond(std::move(h), std::move(body));
  (void)sent;
}

http::task<void> redirect(request& r, unsigned status, std::string location) {
  auto h = r.response(status);
  h.headers.set("location", std::move(location));
  auto sent = co_await r.ex.respond(std::move(h), {});
  (void)sent;
}

// Writes bytes [start, start+length) of a block-backed version; the next
// block is read on the blocking pool while this one is written.
http::task<result<void>> stream_blocks(request& r, const model::version& ver, uint64_t start,
                                       uint64_t length) {
  struct piece {
    hash256 hash;
    uint64_t size, from, to;
  };
  std::vector<piece> pieces;
  uint64_t pos = 0, end = start + length;
  for (const auto& [loc, b] : ver.blocks) {
    uint64_t block_end = pos + b.size;
    if (block_end > start && pos < end)
      pieces.push_back(
          {b.hash, b.size, start > pos ? start - pos : 0, std::min<uint64_t>(b.size, end - pos)});
    pos = block_end;
  }
  using read_job = http::background<result<std::string>>;
  model::store* blocks = &r.store;
  auto fetch = [&r, blocks](hash256 id) {
    return read_job::start(r.rt, [blocks, id] { return blocks->get_block(id); });
  };
  read_job next;
  if (!pieces.empty()) next = fetch(pieces[0].hash);
  result<void> outcome = ok();
  for (size_t i = 0; i < pieces.size() && outcome; ++i) {
    co_await next.wait();
    auto data = next.take();
    if (i + 1 < pieces.size()) next = fetch(pieces[i + 1].hash);
    if (!data) {
      outcome = std::move(data).error();
    } else if (data->size() != pieces[i].size) {
      outcome = error(errc::internal, "block size does not match its version");
    } else {
      outcome = co_await r.ex.write_body(
          std::string_view(*data).substr(pieces[i].from, pieces[i].to - pieces[i].from));
    }
  }
  if (next.valid()) co_await next.wait();  // the job must not outlive this frame's state
  co_return outcome;
}

// Serves an object: with `status` 200, Range and If-* apply; the error
// document is served whole with its status (404).
http::task<void> serve_object(request& r, const snapshot& snap, unsigned status) {
  const model::object_version& v = *snap.current();
  const auto& req_headers = r.ex.head().headers;
  std::string etag = "\"" + v.meta.etag + "\"";
  auto headers = [&](http::response_head& h) {
    h.headers.set("etag", etag);
    h.headers.set("last-modified", http::format_http_date(v.timestamp));
    h.headers.set("accept-ranges", "bytes");
    for (const auto& [name, value] : v.meta.headers) h.headers.set(name, value);
  };
  const uint64_t size = v.meta.size;
  std::optional<http::byte_range> range;
  if (status == 200) {
    switch (http::evaluate_conditions(http::conditional_headers::from(req_headers), etag,
                                      v.timestamp)) {
      case http::condition_outcome::proceed:
        break;
      case http::condition_outcome::not_modified: {
        auto h = r.response(304);
        h.headers.set("etag", etag);
        h.headers.set("last-modified", http::format_http_date(v.timestamp));
        auto sent = co_await r.ex.respond(std::move(h), {});
        (void)sent;
        co_return;
      }
      case http::condition_outcome::precondition_failed:
        co_await respond_page(r, 412, "Precondition Failed",
                              "At least one of the preconditions you specified did not hold.");
        co_return;
    }
    auto rr = http::resolve_range(req_headers.get("range"), size);
    if (rr.kind == http::range_request::unsatisfiable) {
      header_list extra = {{"content-range", http::unsatisfied_content_range(size)}};
      co_await respond_page(r, 416, "Requested Range Not Satisfiable",
                            "The requested range is not satisfiable", extra);
      co_return;
    }
    if (rr.kind == http::range_request::partial) range = rr.range;
  }
  auto h = r.response(range ? 206 : status);
  headers(h);
  uint64_t start = range ? range->start : 0;
  uint64_t length = range ? range->length : size;
  if (range) h.headers.set("content-range", http::content_range(*range, size));
  auto begun = co_await r.ex.begin_response(std::move(h), length);
  if (!begun) co_return;
  if (!r.head && length > 0) {
    if (v.data == model::version_data::blocks) {
      if (!snap.ver) co_return;  // the connection closes: the length cannot be met
      auto s = co_await stream_blocks(r, *snap.ver, start, length);
      if (!s) {
        LOG_WARN("web: {}: reading the object failed: {}", r.ex.head().target,
                 s.error().to_string());
        co_return;
      }
    } else {
      auto w = co_await r.ex.write_body(std::string_view(v.inline_data).substr(start, length));
      if (!w) co_return;
    }
  }
  auto ended = co_await r.ex.end_response();
  (void)ended;
}

}  // namespace

http::task<void> web_api::rep::handle(http::exchange& ex) {
  const auto& head = ex.head();
  request r{ex, rt, store, random_hex(8), {}, head.method == "HEAD"};
  ex.set_endpoint(head.method == "OPTIONS" ? "Preflight" : "GetWebsite");
  const auto& web_cfg = *cfg.s3_web;

  auto host = head.headers.get("host");
  auto bucket_name = bucket_from_host(host.value_or(""), web_cfg.root_domain);
  if (!bucket_name) {
    co_await respond_page(r, 400, "Bad Request", "The request has no Host header");
    co_return;
  }
  auto loaded = co_await http::run_blocking(rt, [&]() -> result<site> {
    site s;
    s.name = *bucket_name;
    GARAGE_ASSIGN_OR_RETURN(s.bucket_id, model::resolve_alias(store, *bucket_name));
    GARAGE_ASSIGN_OR_RETURN(auto b, model::get_bucket(store, s.bucket_id));
    if (!b.website.value.empty()) {
      GARAGE_ASSIGN_OR_RETURN(s.website, model::website_from_json(b.website.value));
    }
    if (!b.cors.value.empty()) {
      GARAGE_ASSIGN_OR_RETURN(s.cors, model::cors_from_json(b.cors.value));
    }
    return s;
  });
  if (!loaded) {
    if (loaded.error().code == errc::not_found) {
      std::string msg = "NoSuchBucket: The specified bucket does not exist (" + *bucket_name + ")";
      co_await respond_page(r, 404, "Not Found", msg);
    } else {
      LOG_WARN("web: {}: {}", *bucket_name, loaded.error().to_string());
      co_await respond_page(r, 500, "Internal Server Error", "We encountered an internal error.");
    }
    co_return;
  }
  if (!loaded->website) {
    std::string msg =
        "NoSuchWebsiteConfiguration: The specified bucket does not have a website configuration (" +
        *bucket_name + ")";
    co_await respond_page(r, 404, "Not Found", msg);
    co_return;
  }
  const model::website_config& site_cfg = *loaded->website;

  // CORS: a preflight is answered here; an actual request from an allowed
  // origin gets the rule's headers on whatever it is answered.
  auto origin = head.headers.get("origin");
  if (head.method == "OPTIONS") {
    auto method = head.headers.get("access-control-request-method");
    if (!origin || !method) {
      co_await respond_page(r, 400, "Bad Request",
                            "A CORS preflight needs Origin and Access-Control-Request-Method");
      co_return;
    }
    std::vector<std::string> req_headers;
    if (auto rh = head.headers.get("access-control-request-headers"))
      req_headers = model::split_header_list(*rh);
    const model::cors_rule* rule =
        loaded->cors ? model::find_cors_rule(*loaded->cors, *origin, *method, req_headers)
                     : nullptr;
    if (!rule) {
      co_await respond_page(r, 403, "Forbidden", "CORSResponse: This CORS request is not allowed.");
      co_return;
    }
    r.cors = model::cors_response_headers(*rule, *origin, true, req_headers);
    auto sent = co_await ex.respond(r.response(200), {});
    (void)sent;
    co_return;
  }
  if (origin && loaded->cors) {
    if (const auto* rule = model::find_cors_rule(*loaded->cors, *origin, head.method))
      r.cors = model::cors_response_headers(*rule, *origin, false);
  }
  if (head.method != "GET" && head.method != "HEAD") {
    header_list extra = {{"allow", "GET, HEAD, OPTIONS"}};
    co_await respond_page(r, 405, "Method Not Allowed",
                          "The specified method is not allowed against this resource.", extra);
    co_return;
  }

  auto path = path_from_target(head.target);
  if (!path) {
    co_await respond_page(r, 400, "Bad Request", "InvalidURI: Couldn't parse the specified URI.");
    co_return;
  }
  if (site_cfg.redirect_all) {
    const auto& to = *site_cfg.redirect_all;
    std::string location = (to.protocol.empty() ? std::string("http") : to.protocol) + "://" +
                           to.host_name + "/" + *path;
    co_await redirect(r, 301, std::move(location));
    co_return;
  }
  if (const auto* rule = model::find_routing_rule(site_cfg, *path)) {
    std::string location = model::routing_redirect_location(*rule, *path, "http");
    co_await redirect(r, rule->http_redirect_code.value_or(301), std::move(location));
    co_return;
  }

  const std::string& index =
      site_cfg.index_document.empty() ? web_cfg.index : site_cfg.index_document;
  std::string key = *path;
  if (key.empty() || key.back() == '/') key += index;
  const std::string& bucket_id = loaded->bucket_id;
  auto found = co_await http::run_blocking(rt, [&]() -> result<std::pair<snapshot, bool>> {
    GARAGE_ASSIGN_OR_RETURN(auto snap, read_object(store, bucket_id, key));
    bool is_dir = false;
    if (!snap.current() && !key.empty() && key.back() != '/' && key != index) {
      // "/dir" of a "dir/index.html": redirect to "/dir/", as Garage does.
      GARAGE_ASSIGN_OR_RETURN(auto dir, model::get_object(store, bucket_id, key + "/" + index));
      is_dir = dir && dir->current() && dir->current()->is_data();
    }
    return std::pair{std::move(snap), is_dir};
  });
  if (!found) {
    LOG_WARN("web: {}/{}: {}", *bucket_name, key, found.error().to_string());
    co_await respond_page(r, 500, "Internal Server Error", "We encountered an internal error.");
    co_return;
  }
  if (found->first.current()) {
    co_await serve_object(r, found->first, 200);
    co_return;
  }
  if (found->second) {
    std::string location = "/" + *path + "/";
    co_await redirect(r, 302, std::move(location));
    co_return;
  }
  if (const auto* rule = model::find_routing_rule(site_cfg, *path, 404)) {
    std::string location = model::routing_redirect_location(*rule, *path, "http");
    co_await redirect(r, rule->http_redirect_code.value_or(301), std::move(location));
    co_return;
  }
  if (site_cfg.error_document) {
    const std::string& doc = *site_cfg.error_document;
    auto err = co_await http::run_blocking(rt, [&] { return read_object(store, bucket_id, doc); });
    if (err && err->current()) {
      co_await serve_object(r, *err, 404);
      co_return;
    }
  }
  std::string msg = "NoSuchKey: The specified key does not exist (" + key + ")";
  co_await respond_page(r, 404, "Not Found", msg);
}

web_api::web_api(http::runtime& rt, model::store& store, const config& cfg)
    : rep_(std::make_shared<rep>(rt, store, cfg)) {}

web_api::~web_api() = default;

http::handler web_api::handler() {
  auto r = rep_;
  return [r](http::exchange& ex) -> http::task<void> { return r->handle(ex); };
}

}  // namespace garage::web
