// PostObject: a browser form upload (multipart/form-data POST to the bucket)
// authenticated by a signed policy (SigV4 form) instead of an Authorization
// header. The fields before the file part are read into a bounded buffer and
// checked (signature, policy, permission); the file part then streams into
// the same inline-or-blocks path as PutObject.
#include <memory>

#include "api/s3/form_data.h"
#include "api/s3/object_headers.h"
#include "api/s3/post_policy.h"
#include "api/s3/request_context.h"
#include "api/s3/s3_xml.h"
#include "model/bucket_ops.h"
#include "model/key_ops.h"
#include "model/object_ops.h"
#include "util/clock.h"
#include "util/encoding.h"
#include "util/hash.h"
#include "util/log.h"

namespace garage::s3 {

namespace {

// Everything before the file part (AWS allows 20 KiB of policy; fields and
// their multipart framing stay well under this).
constexpr size_t kMaxFormFields = 64 * 1024;
// What is read (and ignored) of fields that follow the file.
constexpr size_t kMaxTrailingFields = 64 * 1024;
// What is read (and dropped) of a file refused for its size before answering.
constexpr uint64_t kMaxDrain = 64ull << 20;

// The form body: raw bytes from the exchange into the parser, and the file
// part handed out in pieces of at most the size asked for.
struct form_source {
  request_context& ctx;
  form_data_parser parser;
  std::string spill;  // file bytes of a parser event not handed out yet
  bool file_done = false;
  uint64_t file_size = 0;
  digest_hasher md5{"MD5"};
  std::optional<std::pair<uint64_t, uint64_t>> length_range;

  form_source(request_context& c, std::string boundary) : ctx(c), parser(std::move(boundary)) {}

  // The next parser event, reading from the network when it needs more.
  s3_task<form_data_parser::event> next() {
    for (;;) {
      auto e = parser.next();
      if (!e) co_return std::move(e).error();
      if (e->kind != form_data_parser::event::need_more) co_return std::move(*e);
      std::string raw(64 * 1024, '\0');
      auto n = co_await ctx.ex.read_body(std::span<char>(raw.data(), raw.size()));
      if (!n) co_return make_error(s3_errc::incomplete_body, n.error().message, ctx.resource());
      if (*n == 0) {
        parser.end_of_input();
      } else {
        parser.feed(std::string_view(raw.data(), *n));
      }
    }
  }

  s3_result<void> take(std::string& out, std::string_view data, size_t want) {
    size_t n = std::min(data.size(), want - out.size());
    out.append(data.substr(0, n));
    spill.assign(data.substr(n));
    file_size += n;
    md5.update(data.substr(0, n));
    if (file_size > kMaxObjectPartSize || (length_range && file_size > length_range->second)) {
      return make_error(s3_errc::entity_too_large, {}, ctx.resource());
    }
    return {};
  }

  // Reads and drops what is left of the body (at most `limit` bytes), so that
  // a client still sending a refused file reads the error rather than a reset.
  http::task<void> drain(uint64_t limit) {
    std::string raw(256 * 1024, '\0');
    for (uint64_t seen = 0; seen < limit;) {
      auto n = co_await ctx.ex.read_body(std::span<char>(raw.data(), raw.size()));
      if (!n || *n == 0) break;
      seen += *n;
    }
  }

  // Appends file bytes to `out` until it holds `want` or the file part ends.
  s3_task<size_t> fill(std::string& out, size_t want) {
    size_t before = out.size();
    if (!spill.empty() && out.size() < want) {
      std::string s = std::move(spill);
      spill.clear();
      if (auto t = take(out, s, want); !t) co_return std::move(t).error();
    }
    while (!file_done && out.size() < want) {
      auto e = co_await next();
      if (!e) co_return std::move(e).error();
      if (e->kind == form_data_parser::event::part_data) {
        if (auto t = take(out, e->data, want); !t) co_return std::move(t).error();
      } else {
        file_done = true;  // part_end (done cannot come first)
      }
    }
    co_return out.size() - before;
  }
};

std::string lower(std::string_view s) { return http::to_lower(s); }

struct credential {
  std::string key_id, date, region;
};

std::optional<credential> parse_credential(std::string_view v) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t slash = v.find('/');
    parts.push_back(v.substr(0, slash));
    if (slash == std::string_view::npos) break;
    v.remove_prefix(slash + 1);
  }
  if (parts.size() != 5 || parts[3] != "s3" || parts[4] != "aws4_request" || parts[0].empty() ||
      parts[1].size() != 8)
    return std::nullopt;
  return credential{std::string(parts[0]), std::string(parts[1]), std::string(parts[2])};
}

// Checks the signature and the policy, and loads the key and the bucket.
s3_result<post_policy> authorize_form(request_context& ctx, form_fields& fields) {
  auto field = [&](const char* name) -> const std::string* {
    auto it = fields.find(name);
    return it == fields.end() ? nullptr : &it->second;
  };
  const std::string* policy_b64 = field("policy");
  const std::string* signature = field("x-amz-signature");
  if (!policy_b64 || !signature) {
    if (field("signature") || field("awsaccesskeyid"))
      return make_error(s3_errc::not_implemented,
                        "POST uploads signed with signature version 2 are not supported",
                        ctx.resource());
    return make_error(s3_errc::access_denied,
                      "Anonymous POST uploads are not allowed: sign a policy", ctx.resource());
  }
  const std::string* algorithm = field("x-amz-algorithm");
  if (!algorithm || *algorithm != "AWS4-HMAC-SHA256")
    return make_error(s3_errc::invalid_argument, "x-amz-algorithm must be AWS4-HMAC-SHA256",
                      ctx.resource());
  const std::string* cred_field = field("x-amz-credential");
  auto cred = cred_field ? parse_credential(*cred_field) : std::nullopt;
  if (!cred)
    return make_error(s3_errc::invalid_argument, "x-amz-credential is malformed", ctx.resource());
  if (cred->region != ctx.cfg.s3_api.s3_region)
    return make_error(
        s3_errc::invalid_argument,
        "the credential's region is not this server's (" + ctx.cfg.s3_api.s3_region + ")",
        ctx.resource());
  if (!field("x-amz-date"))
    return make_error(s3_errc::invalid_argument, "x-amz-date is missing", ctx.resource());
  auto key = model::get_key(ctx.store, cred->key_id);
  if (!key) {
    if (key.error().code == errc::not_found)
      return make_error(s3_errc::invalid_access_key_id, {}, ctx.resource());
    return from_error(key.error(), ctx.resource());
  }
  std::string expected =
      sign_hex(derive_signing_key(key->secret, cred->date, cred->region), *policy_b64);
  if (!constant_time_equals(expected, lower(*signature)))
    return make_error(s3_errc::signature_does_not_match, {}, ctx.resource());

  auto decoded = base64_decode(*policy_b64);
  if (!decoded)
    return make_error(s3_errc::invalid_argument, "Invalid Policy: the policy is not base64",
                      ctx.resource());
  auto policy = parse_post_policy(*decoded);
  if (!policy) return std::move(policy).error();
  fields["bucket"] = ctx.req.bucket;
  if (auto checked = check_post_policy(*policy, fields, now_msec()); !checked) {
    auto e = std::move(checked).error();
    e.resource = ctx.resource();
    return e;
  }

  auto bucket_id = model::resolve_bucket_name(ctx.store, &*key, ctx.req.bucket);
  if (!bucket_id) {
    if (bucket_id.error().code == errc::not_found)
      return make_error(s3_errc::no_such_bucket, {}, "/" + ctx.req.bucket);
    return from_error(bucket_id.error(), ctx.resource());
  }
  if (!key->permission_on(*bucket_id).write)
    return make_error(s3_errc::access_denied, {}, ctx.resource());
  ctx.key = std::move(*key);
  ctx.bucket_id = std::move(*bucket_id);
  return policy;
}

// The headers a PUT would carry, from the form's fields.
s3_result<model::header_list> form_headers(const form_fields& fields,
                                           const std::string& file_content_type) {
  http::header_map h;
  for (const auto& [name, value] : fields) {
    if (name == "content-type" || name == "cache-control" || name == "content-disposition" ||
        name == "content-encoding" || name == "content-language" || name == "expires" ||
        name.starts_with("x-amz-meta-"))
      h.add(name, value);
  }
  if (!h.has("content-type") && !file_content_type.empty())
    h.add("content-type", file_content_type);
  return stored_headers(h);
}

s3_task<void> respond_posted(request_context& ctx, const form_fields& fields,
                             const std::string& etag) {
  const auto& head = ctx.ex.head();
  std::string host(head.headers.get("host").value_or("localhost"));
  std::string location = "http://" + host + "/" +
                         (ctx.req.virtual_host ? "" : uri_encode(ctx.req.bucket, false) + "/") +
                         uri_encode(ctx.req.key, true);
  auto field = [&](const char* name) -> std::string {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
  };
  std::string redirect = field("success_action_redirect");
  if (redirect.empty()) redirect = field("redirect");
  if (!redirect.empty()) {
    auto h = ctx.response(303);
    h.headers.set("etag", "\"" + etag + "\"");
    redirect += redirect.find('?') == std::string::npos ? "?" : "&";
    redirect += "bucket=" + uri_encode(ctx.req.bucket, false) +
                "&key=" + uri_encode(ctx.req.key, false) +
                "&etag=" + uri_encode("\"" + etag + "\"", false);
    h.headers.set("location", redirect);
    auto r = co_await ctx.ex.respond(std::move(h), {});
    if (!r) co_return make_error(s3_errc::internal_error, r.error().message);
    co_return s3_result<void>();
  }
  std::string status = field("success_action_status");
  auto h = ctx.response(status == "200" ? 200 : status == "201" ? 201 : 204);
  h.headers.set("etag", "\"" + etag + "\"");
  h.headers.set("location", location);
  std::string body;
  if (status == "201") {
    h.headers.set("content-type", "application/xml");
    body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Location>" +
           xml_escape(location) + "</Location><Bucket>" + xml_escape(ctx.req.bucket) +
           "</Bucket><Key>" + xml_escape(ctx.req.key) + "</Key><ETag>\"" + etag +
           "\"</ETag></PostResponse>";
  }
  auto r = co_await ctx.ex.respond(std::move(h), std::move(body));
  if (!r) co_return make_error(s3_errc::internal_error, r.error().message);
  co_return s3_result<void>();
}

}  // namespace

s3_task<void> handle_post_object(request_context& ctx) {
  auto ct = ctx.ex.head().headers.get("content-type");
  auto boundary = ct ? form_boundary(*ct) : std::nullopt;
  if (!boundary) {
    co_return make_error(s3_errc::malformed_post_request,
                         "the Content-Type is not multipart/form-data with a boundary",
                         ctx.resource());
  }
  auto src = std::make_unique<form_source>(ctx, std::move(*boundary));

  // The fields, up to the file part.
  form_fields fields;
  form_part file;
  std::string name, value;
  size_t field_bytes = 0;
  bool have_file = false;
  while (!have_file) {
    auto e = co_await src->next();
    if (!e) co_return std::move(e).error();
    switch (e->kind) {
      case form_data_parser::event::part_begin:
        name = lower(e->part.name);
        if (name == "file") {
          file = std::move(e->part);
          have_file = true;
        }
        value.clear();
        field_bytes += name.size();
        break;
      case form_data_parser::event::part_data:
        field_bytes += e->data.size();
        value.append(e->data);
        break;
      case form_data_parser::event::part_end:
        if (fields.contains(name)) {
          co_return make_error(s3_errc::invalid_argument, "the form field " + name + " is repeated",
                               ctx.resource());
        }
        fields.emplace(name, std::move(value));
        value.clear();
        break;
      case form_data_parser::event::done:
        co_return make_error(s3_errc::invalid_argument,
                             "POST requires exactly one file upload per request.", ctx.resource());
      case form_data_parser::event::need_more:
        break;
    }
    if (field_bytes > kMaxFormFields) {
      co_return make_error(s3_errc::invalid_argument,
                           "The form fields before the file exceed 64 KiB", ctx.resource());
    }
  }

  // The key: ${filename} stands for the file's name.
  auto key_field = fields.find("key");
  if (key_field == fields.end()) {
    co_return make_error(s3_errc::invalid_argument, "Bucket POST must contain a field named 'key'.",
                         ctx.resource());
  }
  std::string key = key_field->second;
  for (size_t at; (at = key.find("${filename}")) != std::string::npos;)
    key.replace(at, 11, file.filename.value_or(""));
  if (auto valid = validate_object_key(key); !valid) co_return std::move(valid).error();
  if (key.empty()) {
    co_return make_error(s3_errc::invalid_argument, "the object key is empty", ctx.resource());
  }
  key_field->second = key;
  ctx.req.key = key;

  auto policy = co_await blocking(ctx, [&] { return authorize_form(ctx, fields); });
  if (!policy) co_return std::move(policy).error();
  src->length_range = policy->length_range;
  auto headers = form_headers(fields, file.content_type);
  if (!headers) co_return std::move(headers).error();

  fill_function fill = [s = src.get()](std::string& out, size_t want) {
    return s->fill(out, want);
  };
  const uint64_t inline_max = ctx.cfg.inline_threshold;
  std::string first;
  auto n = co_await fill(first, inline_max + 1);
  if (!n) {
    if (n.error().code == s3_errc::entity_too_large) co_await src->drain(kMaxDrain);
    co_return std::move(n).error();
  }

  model::object_meta meta;
  meta.headers = std::move(*headers);
  auto too_small = [&]() -> bool {
    return src->length_range && src->file_size < src->length_range->first;
  };
  if (first.size() <= inline_max) {
    if (too_small()) co_return make_error(s3_errc::entity_too_small, {}, ctx.resource());
    meta.size = first.size();
    meta.etag = hex_encode(src->md5.finish());
    auto put = co_await blocking(ctx, [&] {
      return model::put_inline(ctx.store, ctx.bucket_id, ctx.req.key, meta, std::move(first));
    });
    if (!put) co_return from_error(put.error(), ctx.resource());
  } else {
    auto version_id = co_await blocking(
        ctx, [&] { return model::begin_upload(ctx.store, ctx.bucket_id, ctx.req.key, false); });
    if (!version_id) co_return from_error(version_id.error(), ctx.resource());
    auto stored = co_await store_blocks(ctx, fill, *version_id, std::move(first), 0, 0);
    if (stored && too_small()) stored = make_error(s3_errc::entity_too_small, {}, ctx.resource());
    if (!stored) {
      auto aborted = co_await blocking(ctx, [&] {
        return model::abort_upload(ctx.store, ctx.bucket_id, ctx.req.key, *version_id);
      });
      if (!aborted)
        LOG_WARN("s3: aborting POST upload {}: {}", *version_id, aborted.error().to_string());
      if (stored.error().code == s3_errc::entity_too_large) co_await src->drain(kMaxDrain);
      co_return std::move(stored).error();
    }
    meta.size = src->file_size;
    meta.etag = hex_encode(src->md5.finish());
    auto completed = co_await blocking(ctx, [&] {
      return model::complete_upload(ctx.store, ctx.bucket_id, ctx.req.key, *version_id, meta);
    });
    if (!completed) co_return from_error(completed.error(), ctx.resource());
  }

  // Fields after the file are ignored (as AWS); read a little of them so that
  // the connection stays usable.
  size_t trailing = 0;
  while (trailing < kMaxTrailingFields) {
    auto e = co_await src->next();
    if (!e || e->kind == form_data_parser::event::done) break;
    trailing += e->data.size() + 1;
  }
  co_return co_await respond_posted(ctx, fields, meta.etag);
}

}  // namespace garage::s3
