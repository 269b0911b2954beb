#include "api/s3/bucket_config_xml.h"

#include <algorithm>
#include <charconv>
#include <pugixml.hpp>
#include <set>

#include "api/common/http.h"
#include "api/s3/s3_xml.h"

namespace garage::s3 {

namespace {

constexpr std::string_view k_header = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
constexpr std::string_view k_ns = " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";

s3_error malformed(std::string message = {}) {
  return make_error(s3_errc::malformed_xml, std::move(message));
}
s3_error invalid_request(std::string message) {
  return make_error(s3_errc::invalid_request, std::move(message));
}
s3_error invalid_argument(std::string message) {
  return make_error(s3_errc::invalid_argument, std::move(message));
}

std::string_view local_name(const pugi::xml_node& n) {
  std::string_view name = n.name();
  size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

std::string_view trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

std::string text_of(const pugi::xml_node& n) {
  std::string out;
  for (auto c : n.children())
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
  return std::string(trim(out));
}

// The root element of a whole document named `root_name` (no DOCTYPE).
s3_result<pugi::xml_node> load(pugi::xml_document& doc, std::string_view body,
                               std::string_view root_name) {
  unsigned options = pugi::parse_cdata | pugi::parse_escapes | pugi::parse_doctype;
  auto res = doc.load_buffer(body.data(), body.size(), options, pugi::encoding_utf8);
  if (!res) return malformed();
  int elements = 0;
  for (auto n : doc.children()) {
    if (n.type() == pugi::node_element) ++elements;
    if (n.type() == pugi::node_doctype) return malformed();
  }
  auto root = doc.document_element();
  if (elements != 1 || !root || local_name(root) != root_name) return malformed();
  return root;
}

std::vector<pugi::xml_node> elements(const pugi::xml_node& n) {
  std::vector<pugi::xml_node> out;
  for (auto c : n.children())
    if (c.type() == pugi::node_element) out.push_back(c);
  return out;
}

std::optional<uint64_t> parse_uint(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

void element(std::string& out, std::string_view name, std::string_view text) {
  out.append("<").append(name).append(">");
  out += xml_escape(text);
  out.append("</").append(name).append(">");
}

// --- dates (lifecycle Expiration Date) ---

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// "YYYY-MM-DD", optionally followed by "THH:MM:SS[.fff]" and "Z" or
// "+00:00". Milliseconds since the epoch.
std::optional<uint64_t> parse_iso_date(std::string_view s) {
  auto num = [&](size_t pos, size_t len) -> std::optional<unsigned> {
    if (pos + len > s.size()) return std::nullopt;
    auto v = parse_uint(s.substr(pos, len));
    if (!v) return std::nullopt;
    return static_cast<unsigned>(*v);
  };
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2);
  if (!y || !mo || !d || *mo < 1 || *mo > 12 || *d < 1 || *d > 31) return std::nullopt;
  unsigned hh = 0, mm = 0, ss = 0;
  std::string_view rest = s.substr(10);
  if (!rest.empty()) {
    if (rest.size() < 9 || rest[0] != 'T' || rest[3] != ':' || rest[6] != ':') return std::nullopt;
    auto h = num(11, 2), mi = num(14, 2), se = num(17, 2);
    if (!h || !mi || !se || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
    hh = *h, mm = *mi, ss = *se;
    rest = rest.substr(9);
    if (rest.starts_with('.')) {
      size_t i = 1;
      while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
      if (i == 1) return std::nullopt;
      rest = rest.substr(i);
    }
    if (rest != "Z" && rest != "+00:00" && !rest.empty()) return std::nullopt;
  }
  int64_t days = days_from_civil(*y, *mo, *d);
  if (days < 0) return std::nullopt;
  return (static_cast<uint64_t>(days) * 86400 + hh * 3600 + mm * 60 + ss) * 1000;
}

}  // namespace

// ------------------------------------------------------------------ CORS

s3_result<model::cors_config> parse_cors_configuration(std::string_view body) {
  static const std::set<std::string_view> k_methods = {"GET", "PUT", "HEAD", "POST", "DELETE"};
  pugi::xml_document doc;
  auto root = load(doc, body, "CORSConfiguration");
  if (!root) return std::move(root).error();
  model::cors_config c;
  for (auto r : elements(*root)) {
    if (local_name(r) != "CORSRule") return malformed();
    if (c.rules.size() >= 100) {
      return malformed("A CORS configuration can have at most 100 rules");
    }
    model::cors_rule rule;
    for (auto f : elements(r)) {
      auto name = local_name(f);
      std::string v = text_of(f);
      if (name == "ID") {
        if (v.size() > 255)
          return invalid_argument("ID length should not exceed allowed limit of 255");
        rule.id = v;
      } else if (name == "AllowedOrigin") {
        if (std::count(v.begin(), v.end(), '*') > 1)
          return invalid_request("AllowedOrigin \"" + v +
                                 "\" can not have more than one wildcard.");
        rule.allowed_origins.push_back(v);
      } else if (name == "AllowedMethod") {
        if (!k_methods.count(v))
          return invalid_request(
              "Found unsupported HTTP method in CORS config. Unsupported method is " + v);
        rule.allowed_methods.push_back(v);
      } else if (name == "AllowedHeader") {
        if (std::count(v.begin(), v.end(), '*') > 1)
          return invalid_request("AllowedHeader \"" + v +
                                 "\" can not have more than one wildcard.");
        rule.allowed_headers.push_back(v);
      } else if (name == "ExposeHeader") {
        rule.expose_headers.push_back(v);
      } else if (name == "MaxAgeSeconds") {
        auto n = parse_uint(v);
        if (!n) return malformed();
        rule.max_age_seconds = *n;
      } else {
        return malformed();
      }
    }
    if (rule.allowed_origins.empty() || rule.allowed_methods.empty()) return malformed();
    c.rules.push_back(std::move(rule));
  }
  if (c.rules.empty()) return malformed();
  return c;
}

std::string cors_configuration_xml(const model::cors_config& c) {
  std::string out(k_header);
  out.append("<CORSConfiguration").append(k_ns).append(">");
  for (const auto& r : c.rules) {
    out += "<CORSRule>";
    if (!r.id.empty()) element(out, "ID", r.id);
    for (const auto& h : r.allowed_headers) element(out, "AllowedHeader", h);
    for (const auto& m : r.allowed_methods) element(out, "AllowedMethod", m);
    for (const auto& o : r.allowed_origins) element(out, "AllowedOrigin", o);
    for (const auto& h : r.expose_headers) element(out, "ExposeHeader", h);
    if (r.max_age_seconds) element(out, "MaxAgeSeconds", std::to_string(*r.max_age_seconds));
    out += "</CORSRule>";
  }
  out += "</CORSConfiguration>";
  return out;
}

// ------------------------------------------------------------------ website

namespace {

s3_result<void> check_protocol(const std::string& p) {
  if (p.empty() || p == "http" || p == "https") return {};
  return invalid_request(
      "Invalid protocol, protocol can be http or https. If not defined the protocol will be "
      "selected automatically.");
}

s3_result<model::website_routing_rule> parse_routing_rule(const pugi::xml_node& n) {
  model::website_routing_rule r;
  bool has_redirect = false;
  for (auto part : elements(n)) {
    auto pname = local_name(part);
    if (pname == "Condition") {
      auto fields = elements(part);
      if (fields.empty())
        return invalid_request(
            "Condition cannot be empty. To redirect all requests without a condition, the "
            "condition element shouldn't be present.");
      for (auto f : fields) {
        std::string v = text_of(f);
        if (local_name(f) == "KeyPrefixEquals") {
          r.key_prefix_equals = v;
        } else if (local_name(f) == "HttpErrorCodeReturnedEquals") {
          auto code = parse_uint(v);
          if (!code || *code < 400 || *code > 599)
            return invalid_request("The provided HTTP error code (" + v +
                                   ") is not valid. Valid codes are 4XX or 5XX.");
          r.http_error_code_returned_equals = static_cast<unsigned>(*code);
        } else {
          return malformed();
        }
      }
    } else if (pname == "Redirect") {
      has_redirect = true;
      auto fields = elements(part);
      if (fields.empty()) return invalid_request("Redirect cannot be empty");
      for (auto f : fields) {
        auto fname = local_name(f);
        std::string v = text_of(f);
        if (fname == "HostName") {
          r.host_name = v;
        } else if (fname == "Protocol") {
          if (auto ok = check_protocol(v); !ok) return std::move(ok).error();
          r.protocol = v;
        } else if (fname == "HttpRedirectCode") {
          auto code = parse_uint(v);
          if (!code || *code < 301 || *code > 399)
            return invalid_request("The provided HTTP redirect code (" + v +
                                   ") is not valid. Valid codes are 3XX except 300.");
          r.http_redirect_code = static_cast<unsigned>(*code);
        } else if (fname == "ReplaceKeyPrefixWith") {
          r.replace_key_prefix_with = v;
        } else if (fname == "ReplaceKeyWith") {
          r.replace_key_with = v;
        } else {
          return malformed();
        }
      }
      if (r.replace_key_prefix_with && r.replace_key_with)
        return invalid_request("You can only define ReplaceKeyPrefix or ReplaceKey but not both.");
    } else {
      return malformed();
    }
  }
  if (!has_redirect) return malformed();
  return r;
}

}  // namespace

s3_result<model::website_config> parse_website_configuration(std::string_view body) {
  pugi::xml_document doc;
  auto root = load(doc, body, "WebsiteConfiguration");
  if (!root) return std::move(root).error();
  model::website_config c;
  bool has_index = false, has_other = false;
  for (auto e : elements(*root)) {
    auto name = local_name(e);
    if (name == "IndexDocument") {
      auto fields = elements(e);
      if (fields.size() != 1 || local_name(fields.front()) != "Suffix") return malformed();
      auto s = text_of(fields.front());
      if (s.empty() || s.find('/') != std::string::npos)
        return invalid_argument("The IndexDocument Suffix is not well formed");
      c.index_document = s;
      has_index = true;
    } else if (name == "ErrorDocument") {
      auto fields = elements(e);
      if (fields.size() != 1 || local_name(fields.front()) != "Key") return malformed();
      auto k = text_of(fields.front());
      if (k.empty()) return invalid_argument("The ErrorDocument Key is not well formed");
      c.error_document = k;
      has_other = true;
    } else if (name == "RedirectAllRequestsTo") {
      model::website_redirect_all r;
      for (auto f : elements(e)) {
        if (local_name(f) == "HostName") {
          r.host_name = text_of(f);
        } else if (local_name(f) == "Protocol") {
          r.protocol = text_of(f);
          if (auto ok = check_protocol(r.protocol); !ok) return std::move(ok).error();
        } else {
          return malformed();
        }
      }
      if (r.host_name.empty()) return malformed();
      c.redirect_all = std::move(r);
    } else if (name == "RoutingRules") {
      for (auto rr : elements(e)) {
        if (local_name(rr) != "RoutingRule") return malformed();
        if (c.routing_rules.size() >= 50)
          return invalid_request("A website configuration can have at most 50 routing rules");
        auto rule = parse_routing_rule(rr);
        if (!rule) return std::move(rule).error();
        c.routing_rules.push_back(std::move(*rule));
      }
      has_other = true;
    } else {
      return malformed();
    }
  }
  if (c.redirect_all && (has_index || has_other))
    return invalid_request(
        "RedirectAllRequestsTo cannot be provided in conjunction with other Routing/Redirect "
        "configurations.");
  if (!c.redirect_all && !has_index)
    return invalid_argument(
        "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty");
  return c;
}

std::string website_configuration_xml(const model::website_config& c) {
  std::string out(k_header);
  out.append("<WebsiteConfiguration").append(k_ns).append(">");
  if (c.redirect_all) {
    out += "<RedirectAllRequestsTo>";
    element(out, "HostName", c.redirect_all->host_name);
    if (!c.redirect_all->protocol.empty()) element(out, "Protocol", c.redirect_all->protocol);
    out += "</RedirectAllRequestsTo>";
  } else {
    out += "<IndexDocument>";
    element(out, "Suffix", c.index_document);
    out += "</IndexDocument>";
    if (c.error_document) {
      out += "<ErrorDocument>";
      element(out, "Key", *c.error_document);
      out += "</ErrorDocument>";
    }
  }
  if (!c.routing_rules.empty()) {
    out += "<RoutingRules>";
    for (const auto& r : c.routing_rules) {
      out += "<RoutingRule>";
      if (r.key_prefix_equals || r.http_error_code_returned_equals) {
        out += "<Condition>";
        if (r.http_error_code_returned_equals)
          element(out, "HttpErrorCodeReturnedEquals",
                  std::to_string(*r.http_error_code_returned_equals));
        if (r.key_prefix_equals) element(out, "KeyPrefixEquals", *r.key_prefix_equals);
        out += "</Condition>";
      }
      out += "<Redirect>";
      if (!r.host_name.empty()) element(out, "HostName", r.host_name);
      if (r.http_redirect_code)
        element(out, "HttpRedirectCode", std::to_string(*r.http_redirect_code));
      if (!r.protocol.empty()) element(out, "Protocol", r.protocol);
      if (r.replace_key_prefix_with)
        element(out, "ReplaceKeyPrefixWith", *r.replace_key_prefix_with);
      if (r.replace_key_with) element(out, "ReplaceKeyWith", *r.replace_key_with);
      out += "</Redirect>";
      out += "</RoutingRule>";
    }
    out += "</RoutingRules>";
  }
  out += "</WebsiteConfiguration>";
  return out;
}

// ------------------------------------------------------------------ lifecycle

namespace {

s3_error not_implemented(std::string what) {
  return make_error(s3_errc::not_implemented,
                    what +
                        " is not supported by this server's lifecycle rules (only Expiration "
                        "and AbortIncompleteMultipartUpload, filtered by prefix and size)");
}

// Prefix, ObjectSizeGreaterThan, ObjectSizeLessThan into f.
s3_result<void> parse_filter_field(const pugi::xml_node& n, model::lifecycle_filter& f) {
  auto name = local_name(n);
  std::string v = text_of(n);
  if (name == "Prefix") {
    f.prefix = v;
  } else if (name == "ObjectSizeGreaterThan" || name == "ObjectSizeLessThan") {
    auto size = parse_uint(v);
    if (!size) return malformed();
    (name == "ObjectSizeGreaterThan" ? f.size_greater_than : f.size_less_than) = *size;
  } else if (name == "Tag") {
    return not_implemented("Filtering by Tag");
  } else {
    return malformed();
  }
  return {};
}

s3_result<model::lifecycle_filter> parse_filter(const pugi::xml_node& n) {
  model::lifecycle_filter f;
  auto fields = elements(n);
  if (fields.size() > 1) return malformed();
  if (fields.empty()) return f;
  if (local_name(fields.front()) == "And") {
    for (auto g : elements(fields.front())) {
      if (auto ok = parse_filter_field(g, f); !ok) return std::move(ok).error();
    }
  } else if (auto ok = parse_filter_field(fields.front(), f); !ok) {
    return std::move(ok).error();
  }
  if (f.size_greater_than && f.size_less_than && *f.size_greater_than >= *f.size_less_than)
    return invalid_argument("ObjectSizeGreaterThan must be less than ObjectSizeLessThan");
  return f;
}

s3_result<model::lifecycle_rule> parse_lifecycle_rule(const pugi::xml_node& n) {
  model::lifecycle_rule r;
  bool has_status = false, has_filter = false, has_prefix = false, has_action = false;
  for (auto e : elements(n)) {
    auto name = local_name(e);
    std::string v = text_of(e);
    if (name == "ID") {
      if (v.size() > 255)
        return invalid_argument("ID length should not exceed allowed limit of 255");
      r.id = v;
    } else if (name == "Status") {
      if (v != "Enabled" && v != "Disabled") return malformed();
      r.enabled = v == "Enabled";
      has_status = true;
    } else if (name == "Filter") {
      auto f = parse_filter(e);
      if (!f) return std::move(f).error();
      r.filter = std::move(*f);
      has_filter = true;
    } else if (name == "Prefix") {
      r.filter.prefix = v;
      has_prefix = true;
    } else if (name == "Expiration") {
      has_action = true;
      for (auto f : elements(e)) {
        auto fname = local_name(f);
        std::string fv = text_of(f);
        if (fname == "Days") {
          auto d = parse_uint(fv);
          if (!d) return malformed();
          if (*d == 0 || *d > 0x7fffffff)
            return invalid_argument("'Days' for Expiration action must be a positive integer");
          r.expiration_days = static_cast<uint32_t>(*d);
        } else if (fname == "Date") {
          auto t = parse_iso_date(fv);
          if (!t) return invalid_argument("'Date' must be a date in ISO 8601 format");
          if (*t % model::kDayMsec != 0) return invalid_argument("'Date' must be at midnight GMT");
          r.expiration_date_msec = *t;
        } else if (fname == "ExpiredObjectDeleteMarker") {
          return not_implemented("ExpiredObjectDeleteMarker");
        } else {
          return malformed();
        }
      }
      if (r.expiration_days.has_value() == r.expiration_date_msec.has_value()) return malformed();
    } else if (name == "AbortIncompleteMultipartUpload") {
      has_action = true;
      auto fields = elements(e);
      if (fields.size() != 1 || local_name(fields.front()) != "DaysAfterInitiation")
        return malformed();
      auto d = parse_uint(text_of(fields.front()));
      if (!d) return malformed();
      if (*d == 0 || *d > 0x7fffffff)
        return invalid_argument(
            "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive "
            "integer");
      r.abort_incomplete_upload_days = static_cast<uint32_t>(*d);
    } else if (name == "Transition" || name == "NoncurrentVersionTransition" ||
               name == "NoncurrentVersionExpiration") {
      return not_implemented(std::string(name));
    } else {
      return malformed();
    }
  }
  if (!has_status || (has_filter && has_prefix)) return malformed();
  if (!has_action) return invalid_argument("At least one action needs to be specified in a rule");
  return r;
}

}  // namespace

s3_result<model::lifecycle_config> parse_lifecycle_configuration(std::string_view body) {
  pugi::xml_document doc;
  auto root = load(doc, body, "LifecycleConfiguration");
  if (!root) return std::move(root).error();
  model::lifecycle_config c;
  std::set<std::string> ids;
  for (auto e : elements(*root)) {
    if (local_name(e) != "Rule") return malformed();
    if (c.rules.size() >= 1000)
      return malformed("A lifecycle configuration has at most 1000 rules");
    auto r = parse_lifecycle_rule(e);
    if (!r) return std::move(r).error();
    if (!r->id.empty() && !ids.insert(r->id).second)
      return invalid_argument("Rule ID must be unique. Found same ID for more than one rule");
    c.rules.push_back(std::move(*r));
  }
  if (c.rules.empty()) return malformed();
  return c;
}

std::string lifecycle_configuration_xml(const model::lifecycle_config& c) {
  std::string out(k_header);
  out.append("<LifecycleConfiguration").append(k_ns).append(">");
  for (const auto& r : c.rules) {
    out += "<Rule>";
    if (!r.id.empty()) element(out, "ID", r.id);
    const auto& f = r.filter;
    int n = !f.prefix.empty() + f.size_greater_than.has_value() + f.size_less_than.has_value();
    out += "<Filter>";
    if (n > 1) out += "<And>";
    if (!f.prefix.empty() || n == 0) element(out, "Prefix", f.prefix);
    if (f.size_greater_than)
      element(out, "ObjectSizeGreaterThan", std::to_string(*f.size_greater_than));
    if (f.size_less_than) element(out, "ObjectSizeLessThan", std::to_string(*f.size_less_than));
    if (n > 1) out += "</And>";
    out += "</Filter>";
    element(out, "Status", r.enabled ? "Enabled" : "Disabled");
    if (r.expiration_days || r.expiration_date_msec) {
      out += "<Expiration>";
      if (r.expiration_days) element(out, "Days", std::to_string(*r.expiration_days));
      if (r.expiration_date_msec)
        element(out, "Date", http::format_iso8601(*r.expiration_date_msec));
      out += "</Expiration>";
    }
    if (r.abort_incomplete_upload_days) {
      out += "<AbortIncompleteMultipartUpload>";
      element(out, "DaysAfterInitiation", std::to_string(*r.abort_incomplete_upload_days));
      out += "</AbortIncompleteMultipartUpload>";
    }
    out += "</Rule>";
  }
  out += "</LifecycleConfiguration>";
  return out;
}

}  // namespace garage::s3
