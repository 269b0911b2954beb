#include "api/s3/sigv4.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "util/encoding.h"
#include "util/hash.h"

namespace garage::s3 {
namespace {

constexpr std::string_view k_algorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view k_unsigned = "UNSIGNED-PAYLOAD";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_lower_hex(std::string_view s, size_t len) {
  if (s.size() != len) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// "20130524T000000Z" of a time, for requests dated by the Date header.
std::string format_amz_date(uint64_t msec) {
  int64_t secs = static_cast<int64_t>(msec / 1000);
  int64_t days = secs / 86400, rem = secs % 86400;
  // Howard Hinnant's civil_from_days.
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", static_cast<int>(y),
                static_cast<int>(m), static_cast<int>(d), static_cast<int>(rem / 3600),
                static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  return buf;
}

// The raw (still encoded) pairs of a query string.
std::vector<std::pair<std::string_view, std::string_view>> split_query(std::string_view q) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view item = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(item, std::string_view());
    } else {
      out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
  }
  return out;
}

// Decoded value of the first query parameter named `name` (exact case).
std::optional<std::string> query_param(std::string_view raw_query, std::string_view name) {
  for (auto& [k, v] : split_query(raw_query)) {
    auto key = uri_decode(k, true);
    if (key && *key == name) return uri_decode(v, true).value_or(std::string());
  }
  return std::nullopt;
}

s3_error malformed_header(std::string msg) {
  return make_error(s3_errc::authorization_header_malformed, std::move(msg));
}

s3_error query_error(std::string msg) {
  return make_error(s3_errc::authorization_query_parameters_error, std::move(msg));
}

struct credential {
  std::string access_key_id, date, region, service;
};

// "AKID/20130524/us-east-1/s3/aws4_request"; the key id is all before the last four parts.
std::optional<credential> parse_credential(std::string_view s) {
  std::string_view parts[4];
  for (int i = 3; i >= 0; --i) {
    size_t slash = s.rfind('/');
    if (slash == std::string_view::npos) return std::nullopt;
    parts[i] = s.substr(slash + 1);
    s = s.substr(0, slash);
  }
  if (s.empty() || parts[3] != "aws4_request" || parts[0].size() != 8 ||
      !std::all_of(parts[0].begin(), parts[0].end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return credential{std::string(s), std::string(parts[0]), std::string(parts[1]),
                    std::string(parts[2])};
}

std::vector<std::string> split_signed_headers(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    size_t semi = s.find(';');
    out.emplace_back(s.substr(0, semi));
    if (semi == std::string_view::npos) break;
    s = s.substr(semi + 1);
  }
  return out;
}

bool valid_signed_headers(const std::vector<std::string>& names) {
  for (auto& n : names) {
    if (n.empty()) return false;
    for (char c : n) {
      if (c >= 'A' && c <= 'Z') return false;
      if (static_cast<unsigned char>(c) <= ' ' || c == ':') return false;
    }
  }
  return true;
}

bool has_header(const std::vector<std::string>& names, std::string_view n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

std::string join(const std::vector<std::string>& names, char sep) {
  std::string out;
  for (auto& n : names) {
    if (!out.empty()) out.push_back(sep);
    out += n;
  }
  return out;
}

s3_result<payload_mode> parse_payload_mode(std::string_view v) {
  if (v == k_unsigned) return payload_mode::unsigned_payload;
  if (v == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") return payload_mode::streaming_signed;
  if (v == "STREAMING-UNSIGNED-PAYLOAD-TRAILER") return payload_mode::streaming_unsigned_trailer;
  if (v == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
    return payload_mode::streaming_signed_trailer;
  if (v.starts_with("STREAMING-AWS4-ECDSA-P256-SHA256"))
    return make_error(s3_errc::not_implemented, "SigV4a (ECDSA) payload signing is not supported");
  if (is_lower_hex(v, 64)) return payload_mode::signed_sha256;
  return make_error(s3_errc::invalid_argument,
                    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-... or a valid "
                    "sha256 value");
}

std::string derive_key(std::string_view secret, std::string_view date, std::string_view region,
                       signing_key_cache* cache) {
  return cache ? cache->get(secret, date, region) : derive_signing_key(secret, date, region);
}

// The pieces of a request that both auth forms sign.
struct signing_input {
  std::string_view method;
  std::string_view raw_path;
  std::string_view raw_query;
  bool skip_signature_param;
  const http::header_map* headers;
  const std::vector<std::string>* signed_headers;
  std::string_view payload_hash;
  std::string_view amz_date;
  std::string_view scope;
};

// Checks `signature` against the canonical request. Tries the canonical form
// AWS uses first; if that fails, the forms some clients sign by mistake (a
// literal '+' in the query, the path exactly as sent), which identify the same
// resource.
s3_result<void> check_signature(const signing_input& in, std::string_view signing_key,
                                std::string_view signature) {
  auto headers = canonical_headers(*in.headers, *in.signed_headers);
  if (!headers) return make_error(s3_errc::signature_does_not_match, "a signed header is missing");
  std::string signed_list = join(*in.signed_headers, ';');
  auto uri = canonical_uri(in.raw_path);
  if (!uri) return std::move(uri).error();
  std::vector<std::string> uris{*uri};
  if (in.raw_path != *uri && !in.raw_path.empty()) uris.emplace_back(in.raw_path);
  std::vector<bool> plus_modes{true};
  if (in.raw_query.find('+') != std::string_view::npos) plus_modes.push_back(false);
  for (bool plus_is_space : plus_modes) {
    auto query = canonical_query(in.raw_query, in.skip_signature_param, plus_is_space);
    if (!query) return std::move(query).error();
    for (const auto& u : uris) {
      std::string creq;
      creq.reserve(256 + headers->size());
      creq.append(in.method).push_back('\n');
      creq.append(u).push_back('\n');
      creq.append(*query).push_back('\n');
      creq.append(*headers).push_back('\n');
      creq.append(signed_list).push_back('\n');
      creq.append(in.payload_hash);
      std::string expected = sign_hex(signing_key, string_to_sign(in.amz_date, in.scope, creq));
      if (constant_time_equals(expected, signature)) return {};
    }
  }
  return make_error(s3_errc::signature_does_not_match);
}

s3_result<auth_result> verify_header_form(const http::request_head& head,
                                          std::string_view authorization, std::string_view region,
                                          const secret_lookup& lookup, uint64_t now_msec,
                                          signing_key_cache* cache) {
  auto parsed = parse_authorization_header(authorization);
  if (!parsed) return std::move(parsed).error();
  auto& auth = *parsed;
  if (auth.service != "s3")
    return malformed_header("The authorization header is malformed; incorrect service '" +
                            auth.service + "'. This endpoint belongs to 's3'.");
  if (auth.region != region)
    return malformed_header("The authorization header is malformed; the region '" + auth.region +
                            "' is wrong; expecting '" + std::string(region) + "'");
  if (!has_header(auth.signed_headers, "host"))
    return malformed_header("The host header must be signed");

  std::string amz_date;
  uint64_t date_msec = 0;
  if (auto xd = head.headers.get("x-amz-date")) {
    amz_date = std::string(trim(*xd));
    auto t = http::parse_amz_date(amz_date);
    if (!t) return make_error(s3_errc::access_denied, "Invalid x-amz-date header");
    date_msec = *t;
  } else if (auto d = head.headers.get("date")) {
    auto t = http::parse_http_date(trim(*d));
    if (!t) return make_error(s3_errc::access_denied, "Invalid Date header");
    date_msec = *t;
    amz_date = format_amz_date(*t);
  } else {
    return make_error(s3_errc::access_denied,
                      "AWS authentication requires a valid Date or x-amz-date header");
  }
  if (amz_date.substr(0, 8) != auth.date)
    return malformed_header("Invalid credential date. Date is not the same as X-Amz-Date.");
  uint64_t skew = now_msec > date_msec ? now_msec - date_msec : date_msec - now_msec;
  if (skew > k_max_clock_skew_msec) return make_error(s3_errc::request_time_too_skewed);

  auto sha_header = head.headers.get("x-amz-content-sha256");
  if (!sha_header)
    return make_error(s3_errc::invalid_request,
                      "Missing required header for this request: x-amz-content-sha256");
  std::string_view payload_hash = trim(*sha_header);
  auto mode = parse_payload_mode(payload_hash);
  if (!mode) return std::move(mode).error();

  auto secret = lookup(auth.access_key_id);
  if (!secret) return make_error(s3_errc::invalid_access_key_id);

  std::string scope = auth.date + "/" + auth.region + "/" + auth.service + "/aws4_request";
  std::string key = derive_key(*secret, auth.date, auth.region, cache);
  signing_input in{head.method,          head.path(),  head.query(), false, &head.headers,
                   &auth.signed_headers, payload_hash, amz_date,     scope};
  auto ok = check_signature(in, key, auth.signature);
  if (!ok) return std::move(ok).error();

  auth_result r;
  r.access_key_id = auth.access_key_id;
  r.payload = *mode;
  if (r.payload == payload_mode::signed_sha256) r.expected_sha256 = std::string(payload_hash);
  if (r.payload != payload_mode::signed_sha256 && r.payload != payload_mode::unsigned_payload) {
    r.streaming =
        streaming_context{std::move(key), std::move(scope), std::move(amz_date), auth.signature};
  }
  if (auto dcl = head.headers.get("x-amz-decoded-content-length")) {
    auto v = parse_u64(trim(*dcl));
    if (!v) return make_error(s3_errc::invalid_argument, "Invalid x-amz-decoded-content-length");
    r.decoded_content_length = *v;
  }
  if (auto t = head.headers.get("x-amz-trailer")) r.trailer = std::string(trim(*t));
  return r;
}

s3_result<auth_result> verify_query_form(const http::request_head& head, std::string_view region,
                                         const secret_lookup& lookup, uint64_t now_msec,
                                         signing_key_cache* cache) {
  std::string_view q = head.query();
  auto algorithm = query_param(q, "X-Amz-Algorithm");
  if (!algorithm || *algorithm != k_algorithm)
    return query_error("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
  auto cred_s = query_param(q, "X-Amz-Credential");
  auto date_s = query_param(q, "X-Amz-Date");
  auto expires_s = query_param(q, "X-Amz-Expires");
  auto signed_s = query_param(q, "X-Amz-SignedHeaders");
  auto signature = query_param(q, "X-Amz-Signature");
  if (!cred_s || !date_s || !expires_s || !signed_s || !signature)
    return query_error(
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
        "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
  auto cred = parse_credential(*cred_s);
  if (!cred) return query_error("Error parsing the X-Amz-Credential parameter");
  if (cred->service != "s3")
    return query_error("Error parsing the X-Amz-Credential parameter; incorrect service '" +
                       cred->service + "'. This endpoint belongs to 's3'.");
  if (cred->region != region)
    return query_error("Error parsing the X-Amz-Credential parameter; the region '" + cred->region +
                       "' is wrong; expecting '" + std::string(region) + "'");
  auto date_msec = http::parse_amz_date(*date_s);
  if (!date_msec) return query_error("X-Amz-Date must be in the ISO8601 Long Format");
  if (date_s->substr(0, 8) != cred->date)
    return query_error("Invalid credential date. Date is not the same as X-Amz-Date.");
  auto expires = parse_u64(*expires_s);
  if (!expires || *expires == 0 || *expires > k_max_presigned_expiry_sec)
    return query_error(
        "X-Amz-Expires must be a positive number of seconds, at most 604800 (a week)");
  auto signed_headers = split_signed_headers(*signed_s);
  if (!valid_signed_headers(signed_headers) || !has_header(signed_headers, "host"))
    return query_error("X-Amz-SignedHeaders must list the host header, in lower case");
  if (!is_lower_hex(*signature, 64)) return make_error(s3_errc::signature_does_not_match);

  if (*date_msec > now_msec + k_max_clock_skew_msec)
    return make_error(s3_errc::access_denied, "Request is not valid yet");
  if (now_msec > *date_msec + *expires * 1000)
    return make_error(s3_errc::access_denied, "Request has expired");

  auto secret = lookup(cred->access_key_id);
  if (!secret) return make_error(s3_errc::invalid_access_key_id);

  std::string payload_hash(k_unsigned);
  if (auto p = query_param(q, "X-Amz-Content-Sha256")) payload_hash = *p;
  auto mode = parse_payload_mode(payload_hash);
  if (!mode) return std::move(mode).error();
  if (*mode != payload_mode::signed_sha256 && *mode != payload_mode::unsigned_payload)
    return query_error("Streaming payloads cannot be used with presigned URLs");

  std::string scope = cred->date + "/" + cred->region + "/" + cred->service + "/aws4_request";
  std::string key = derive_key(*secret, cred->date, cred->region, cache);
  signing_input in{head.method,     head.path(),  q,       true, &head.headers,
                   &signed_headers, payload_hash, *date_s, scope};
  auto ok = check_signature(in, key, *signature);
  if (!ok) return std::move(ok).error();

  auth_result r;
  r.presigned = true;
  r.access_key_id = cred->access_key_id;
  r.payload = *mode;
  if (r.payload == payload_mode::signed_sha256) r.expected_sha256 = payload_hash;
  return r;
}

}  // namespace

struct signing_key_cache::rep {
  size_t capacity;
  std::mutex mu;
  std::unordered_map<std::string, std::string> keys;
};

signing_key_cache::signing_key_cache(size_t capacity) : rep_(std::make_unique<rep>()) {
  rep_->capacity = capacity;
}
signing_key_cache::~signing_key_cache() = default;

std::string signing_key_cache::get(std::string_view secret, std::string_view date,
                                   std::string_view region) {
  std::string id;
  id.reserve(secret.size() + date.size() + region.size() + 2);
  id.append(date).push_back('\n');
  id.append(region).push_back('\n');
  id.append(secret);
  {
    std::lock_guard lock(rep_->mu);
    auto it = rep_->keys.find(id);
    if (it != rep_->keys.end()) return it->second;
  }
  std::string key = derive_signing_key(secret, date, region);
  std::lock_guard lock(rep_->mu);
  if (rep_->keys.size() >= rep_->capacity) rep_->keys.clear();
  rep_->keys.emplace(std::move(id), key);
  return key;
}

s3_result<auth_result> verify_request(const http::request_head& head, std::string_view region,
                                      const secret_lookup& lookup, uint64_t now_msec,
                                      signing_key_cache* cache) {
  auto authorization = head.headers.get("authorization");
  bool query_auth = query_param(head.query(), "X-Amz-Algorithm").has_value() ||
                    query_param(head.query(), "X-Amz-Signature").has_value() ||
                    query_param(head.query(), "X-Amz-Credential").has_value();
  if (authorization && query_auth)
    return make_error(s3_errc::invalid_argument, "Only one auth mechanism allowed");
  if (authorization) {
    std::string_view a = trim(*authorization);
    if (a.starts_with("AWS4-HMAC-SHA256 ") || a.starts_with("AWS4-HMAC-SHA256,"))
      return verify_header_form(head, a, region, lookup, now_msec, cache);
    return make_error(s3_errc::invalid_request,
                      "The authorization mechanism you have provided is not supported. Please "
                      "use AWS4-HMAC-SHA256.");
  }
  if (query_auth) return verify_query_form(head, region, lookup, now_msec, cache);
  auth_result r;
  r.anonymous = true;
  return r;
}

s3_result<authorization_header> parse_authorization_header(std::string_view value) {
  value = trim(value);
  if (!value.starts_with(k_algorithm))
    return malformed_header("The authorization header is malformed; unsupported algorithm");
  value.remove_prefix(k_algorithm.size());
  std::optional<std::string_view> credential_s, signed_s, signature_s;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return malformed_header("The authorization header is malformed; '" + std::string(item) +
                              "' is not a key=value pair");
    std::string_view k = trim(item.substr(0, eq)), v = trim(item.substr(eq + 1));
    if (k == "Credential")
      credential_s = v;
    else if (k == "SignedHeaders")
      signed_s = v;
    else if (k == "Signature")
      signature_s = v;
    else
      return malformed_header("The authorization header is malformed; unknown field '" +
                              std::string(k) + "'");
  }
  if (!credential_s || !signed_s || !signature_s)
    return malformed_header(
        "The authorization header is malformed; it needs Credential, SignedHeaders and "
        "Signature");
  auto cred = parse_credential(*credential_s);
  if (!cred)
    return malformed_header("The authorization header is malformed; the Credential is mal-formed");
  authorization_header out;
  out.access_key_id = std::move(cred->access_key_id);
  out.date = std::move(cred->date);
  out.region = std::move(cred->region);
  out.service = std::move(cred->service);
  out.signed_headers = split_signed_headers(*signed_s);
  if (!valid_signed_headers(out.signed_headers))
    return malformed_header("The authorization header is malformed; bad SignedHeaders");
  if (!is_lower_hex(*signature_s, 64))
    return malformed_header("The authorization header is malformed; bad Signature");
  out.signature = std::string(*signature_s);
  return out;
}

s3_result<std::string> canonical_uri(std::string_view raw_path) {
  if (raw_path.empty()) return std::string("/");
  std::string out;
  out.reserve(raw_path.size() + 16);
  while (true) {
    size_t slash = raw_path.find('/');
    auto seg = uri_decode(raw_path.substr(0, slash), false);
    if (!seg) return make_error(s3_errc::invalid_uri);
    out += uri_encode(*seg, false);
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    raw_path.remove_prefix(slash + 1);
  }
  return out;
}

s3_result<std::string> canonical_query(std::string_view raw_query, bool skip_signature,
                                       bool plus_is_space) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (auto& [k, v] : split_query(raw_query)) {
    auto key = uri_decode(k, plus_is_space);
    auto val = uri_decode(v, plus_is_space);
    if (!key || !val) return make_error(s3_errc::invalid_uri);
    if (skip_signature && *key == "X-Amz-Signature") continue;
    pairs.emplace_back(uri_encode(*key, false), uri_encode(*val, false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (auto& [k, v] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

std::optional<std::string> canonical_headers(const http::header_map& headers,
                                             const std::vector<std::string>& signed_headers) {
  std::string out;
  for (const auto& name : signed_headers) {
    bool found = false;
    out += name;
    out.push_back(':');
    for (const auto& [n, v] : headers.items()) {
      if (!http::iequals(n, name)) continue;
      if (found) out.push_back(',');
      found = true;
      std::string_view t = trim(v);
      bool space = false;
      for (char c : t) {
        if (c == ' ' || c == '\t') {
          space = true;
          continue;
        }
        if (space) out.push_back(' ');
        space = false;
        out.push_back(c);
      }
    }
    if (!found) return std::nullopt;
    out.push_back('\n');
  }
  return out;
}

std::string derive_signing_key(std::string_view secret, std::string_view date,
                               std::string_view region, std::string_view service) {
  std::string k = hmac_sha256("AWS4" + std::string(secret), date);
  k = hmac_sha256(k, region);
  k = hmac_sha256(k, service);
  return hmac_sha256(k, "aws4_request");
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  std::string out;
  out.reserve(k_algorithm.size() + amz_date.size() + scope.size() + 68);
  out.append(k_algorithm).push_back('\n');
  out.append(amz_date).push_back('\n');
  out.append(scope).push_back('\n');
  out += hex_encode(sha256(canonical_request));
  return out;
}

std::string sign_hex(std::string_view signing_key, std::string_view data) {
  return hex_encode(hmac_sha256(signing_key, data));
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace garage::s3
