// S3 additional checksums on the wire: header parsing, trailing checksums
// decoded from aws-chunked bodies and verified (good, bad value → BadDigest,
// bad trailer signature, truncated, missing), CreateMultipartUpload's
// algorithm and type, multipart composite and full-object checksums,
// CompleteMultipartUpload's checks. Also object tags and conditional-write
// headers (object_tagging.h).
#include "api/s3/checksums.h"

#include <gtest/gtest.h>

#include "api/s3/chunked_decoder.h"
#include "api/s3/object_tagging.h"
#include "test_signer.h"
#include "util/encoding.h"

namespace garage::s3 {
namespace {

using namespace garage::s3::testing;

http::header_map headers(std::vector<std::pair<std::string, std::string>> items) {
  http::header_map h;
  for (auto& [k, v] : items) h.add(k, v);
  return h;
}

std::string b64(checksum_algorithm a, std::string_view data) {
  return base64_encode(compute_checksum(a, data));
}

TEST(checksum_headers, header_value_is_parsed) {
  auto r = parse_checksum_request(
      headers({{"x-amz-checksum-crc32", b64(checksum_algorithm::crc32, "hello")},
               {"x-amz-sdk-checksum-algorithm", "CRC32"}}),
      "");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->algorithm, checksum_algorithm::crc32);
  EXPECT_EQ(r->expected, compute_checksum(checksum_algorithm::crc32, "hello"));
  EXPECT_FALSE(r->in_trailer);

  for (auto a : {checksum_algorithm::crc32c, checksum_algorithm::crc64nvme,
                 checksum_algorithm::sha1, checksum_algorithm::sha256}) {
    auto p = parse_checksum_request(headers({{checksum_header(a), b64(a, "x")}}), "");
    ASSERT_TRUE(p) << checksum_name(a);
    EXPECT_EQ(p->algorithm, a);
  }
  auto none = parse_checksum_request(headers({{"content-type", "text/plain"}}), "");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->algorithm);
}

TEST(checksum_headers, malformed_requests_are_invalid_request) {
  auto code = [](const s3_result<checksum_request>& r) {
    return r ? std::optional<s3_errc>() : std::optional<s3_errc>(r.error().code);
  };
  // Not base64, and base64 of the wrong size.
  EXPECT_EQ(code(parse_checksum_request(headers({{"x-amz-checksum-crc32", "!!!"}}), "")),
            s3_errc::invalid_request);
  EXPECT_EQ(code(parse_checksum_request(
                headers({{"x-amz-checksum-sha256", b64(checksum_algorithm::crc32, "x")}}), "")),
            s3_errc::invalid_request);
  // Two checksums.
  EXPECT_EQ(code(parse_checksum_request(
                headers({{"x-amz-checksum-crc32", b64(checksum_algorithm::crc32, "x")},
                         {"x-amz-checksum-sha1", b64(checksum_algorithm::sha1, "x")}}),
                "")),
            s3_errc::invalid_request);
  // A header and a trailer.
  EXPECT_EQ(code(parse_checksum_request(
                headers({{"x-amz-checksum-crc32", b64(checksum_algorithm::crc32, "x")}}),
                "x-amz-checksum-crc32")),
            s3_errc::invalid_request);
  // A trailer that is not a checksum.
  EXPECT_EQ(code(parse_checksum_request(headers({}), "x-amz-meta-foo")), s3_errc::invalid_request);
  // The SDK algorithm unknown, without a value, or naming another algorithm.
  EXPECT_EQ(code(parse_checksum_request(headers({{"x-amz-sdk-checksum-algorithm", "MD4"}}), "")),
            s3_errc::invalid_request);
  EXPECT_EQ(code(parse_checksum_request(headers({{"x-amz-sdk-checksum-algorithm", "CRC32"}}), "")),
            s3_errc::invalid_request);
  EXPECT_EQ(code(parse_checksum_request(
                headers({{"x-amz-sdk-checksum-algorithm", "SHA256"},
                         {"x-amz-checksum-crc32", b64(checksum_algorithm::crc32, "x")}}),
                "")),
            s3_errc::invalid_request);
}

TEST(checksum_headers, trailer_announcement) {
  auto r = parse_checksum_request(headers({{"x-amz-sdk-checksum-algorithm", "crc32c"}}),
                                  "x-amz-checksum-crc32c");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->algorithm, checksum_algorithm::crc32c);
  EXPECT_TRUE(r->in_trailer);
  EXPECT_FALSE(r->expected);
}

TEST(checksum_headers, verify_body_checksum_from_header) {
  checksum_request req;
  req.algorithm = checksum_algorithm::sha256;
  req.expected = compute_checksum(checksum_algorithm::sha256, "data");
  EXPECT_TRUE(verify_body_checksum(req, checksum_algorithm::sha256,
                                   compute_checksum(checksum_algorithm::sha256, "data"), {}));
  auto bad = verify_body_checksum(req, checksum_algorithm::sha256,
                                  compute_checksum(checksum_algorithm::sha256, "other"), {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, s3_errc::bad_digest);
  EXPECT_EQ(bad.error().status(), 400u);
}

// --- Trailing checksums through the aws-chunked decoder. ---

streaming_context trailer_context() {
  http::request_head h;
  h.method = "PUT";
  h.target = "/bucket/key";
  h.headers.add("host", "localhost");
  h.headers.add("x-amz-date", "20130524T000000Z");
  h.headers.add("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER");
  h.headers.add("x-amz-trailer", "x-amz-checksum-crc32");
  h.headers.add("x-amz-decoded-content-length", "9");
  h.headers.add("authorization", sign_header(h, "20130524T000000Z",
                                             {"host", "x-amz-content-sha256", "x-amz-date",
                                              "x-amz-decoded-content-length", "x-amz-trailer"},
                                             "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"));
  auto r = verify_request(
      h, "us-east-1",
      [](std::string_view) -> std::optional<std::string> { return std::string(k_secret); },
      k_may24);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  if (!r) return {};
  EXPECT_EQ(r->payload, payload_mode::streaming_signed_trailer);
  EXPECT_EQ(r->trailer, "x-amz-checksum-crc32");
  return r->streaming;
}

// A signed body of one chunk of `data`, the final chunk, the trailer
// "x-amz-checksum-crc32:<value>" and its signature (broken on request).
std::string signed_body(const streaming_context& ctx, std::string_view data,
                        const std::string& value, bool break_signature = false) {
  std::string s1 = chunk_signature(ctx, ctx.seed_signature, hex_encode(sha256(data)));
  std::string s2 = chunk_signature(ctx, s1, k_empty_sha);
  std::string ts = trailer_signature(ctx, s2, "x-amz-checksum-crc32:" + value + "\n");
  if (break_signature) ts[0] = ts[0] == '0' ? '1' : '0';
  char size[16];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return std::string(size) + ";chunk-signature=" + s1 + "\r\n" + std::string(data) +
         "\r\n0;chunk-signature=" + s2 + "\r\nx-amz-checksum-crc32:" + value +
         "\r\nx-amz-trailer-signature:" + ts + "\r\n\r\n";
}

// What body_reader does: decode, compute the checksum, finish, verify.
s3_result<std::string> upload(payload_mode mode, const streaming_context& ctx,
                              std::string_view body, size_t step,
                              const std::string& trailer = "x-amz-checksum-crc32") {
  auto req = parse_checksum_request(headers({}), trailer);
  if (!req) return std::move(req).error();
  chunked_decoder d(mode, ctx);
  checksum_hasher h(*req->algorithm);
  std::string out;
  for (size_t i = 0; i < body.size(); i += step) {
    auto r = d.feed(body.substr(i, step));
    if (!r) return std::move(r).error();
    h.update(*r);
    out += *r;
  }
  if (auto f = d.finish(); !f) return std::move(f).error();
  auto v = verify_body_checksum(*req, *req->algorithm, h.finish(), d.trailers());
  if (!v) return std::move(v).error();
  return out;
}

TEST(trailing_checksum, signed_trailer_good) {
  auto ctx = trailer_context();
  auto r = upload(payload_mode::streaming_signed_trailer, ctx,
                  signed_body(ctx, "some data", b64(checksum_algorithm::crc32, "some data")), 7);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "some data");
}

TEST(trailing_checksum, signed_trailer_wrong_checksum_is_bad_digest) {
  auto ctx = trailer_context();
  auto r = upload(payload_mode::streaming_signed_trailer, ctx,
                  signed_body(ctx, "some data", b64(checksum_algorithm::crc32, "other")), 4);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::bad_digest);
}

TEST(trailing_checksum, bad_trailer_signature) {
  auto ctx = trailer_context();
  auto r =
      upload(payload_mode::streaming_signed_trailer, ctx,
             signed_body(ctx, "some data", b64(checksum_algorithm::crc32, "some data"), true), 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, s3_errc::signature_does_not_match);
}

TEST(trailing_checksum, truncated_bodies_are_incomplete) {
  auto ctx = trailer_context();
  std::string body = signed_body(ctx, "some data", b64(checksum_algorithm::crc32, "some data"));
  // Cut inside the data, inside the final chunk line, and inside the trailer.
  for (size_t cut : {size_t{90}, body.find("0;chunk") + 3, body.find("x-amz-checksum") + 10}) {
    auto r = upload(payload_mode::streaming_signed_trailer, ctx, body.substr(0, cut), 3);
    ASSERT_FALSE(r) << cut;
    EXPECT_EQ(r.error().code, s3_errc::incomplete_body) << cut;
  }
  // The trailer signature line cut off: the trailer cannot be trusted.
  auto cut = body.substr(0, body.find("x-amz-trailer-signature"));
  auto r = upload(payload_mode::streaming_signed_trailer, ctx, cut, 3);
  ASSERT_FALSE(r);
}

TEST(trailing_checksum, unsigned_trailer_good_and_bad) {
  auto crc = b64(checksum_algorithm::crc32, "hello, world!!!!");
  std::string body =
      "5\r\nhello\r\nb\r\n, world!!!!\r\n0\r\nx-amz-checksum-crc32:" + crc + "\r\n\r\n";
  auto r = upload(payload_mode::streaming_unsigned_trailer, {}, body, 1);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "hello, world!!!!");

  std::string wrong = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + crc + "\r\n\r\n";
  auto bad = upload(payload_mode::streaming_unsigned_trailer, {}, wrong, 2);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, s3_errc::bad_digest);

  // Other algorithms in the trailer.
  for (auto a : {checksum_algorithm::crc32c, checksum_algorithm::crc64nvme,
                 checksum_algorithm::sha1, checksum_algorithm::sha256}) {
    std::string b = "3\r\nabc\r\n0\r\n" + checksum_header(a) + ":" + b64(a, "abc") + "\r\n\r\n";
    auto ok = upload(payload_mode::streaming_unsigned_trailer, {}, b, 2, checksum_header(a));
    EXPECT_TRUE(ok) << checksum_name(a) << ": " << (ok ? "" : ok.error().message);
  }
}

TEST(trailing_checksum, announced_trailer_missing_or_malformed) {
  auto missing = upload(payload_mode::streaming_unsigned_trailer, {}, "3\r\nabc\r\n0\r\n\r\n", 4);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, s3_errc::invalid_request);
  auto malformed = upload(payload_mode::streaming_unsigned_trailer, {},
                          "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:%%%\r\n\r\n", 4);
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code, s3_errc::invalid_request);
}

// --- Multipart. ---

TEST(multipart_checksum, upload_algorithm_and_type) {
  auto none = parse_upload_checksum(headers({}));
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto crc = parse_upload_checksum(headers({{"x-amz-checksum-algorithm", "CRC32"}}));
  ASSERT_TRUE(crc && *crc);
  EXPECT_TRUE((*crc)->composite);
  auto nvme = parse_upload_checksum(headers({{"x-amz-checksum-algorithm", "CRC64NVME"}}));
  ASSERT_TRUE(nvme && *nvme);
  EXPECT_FALSE((*nvme)->composite);
  auto full = parse_upload_checksum(
      headers({{"x-amz-checksum-algorithm", "crc32c"}, {"x-amz-checksum-type", "FULL_OBJECT"}}));
  ASSERT_TRUE(full && *full);
  EXPECT_FALSE((*full)->composite);
  for (auto bad : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {{"x-amz-checksum-algorithm", "MD5"}},
           {{"x-amz-checksum-algorithm", "SHA256"}, {"x-amz-checksum-type", "FULL_OBJECT"}},
           {{"x-amz-checksum-algorithm", "CRC64NVME"}, {"x-amz-checksum-type", "COMPOSITE"}},
           {{"x-amz-checksum-algorithm", "CRC32"}, {"x-amz-checksum-type", "PARTIAL"}},
           {{"x-amz-checksum-type", "COMPOSITE"}}}) {
    auto r = parse_upload_checksum(headers(bad));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, s3_errc::invalid_request);
  }
}

TEST(multipart_checksum, composite_and_full_object) {
  std::string p1(1000, 'a'), p2(10, 'b');
  auto a = checksum_algorithm::crc32c;
  model::object_checksum composite{a, true, 0, {}};
  auto c = multipart_checksum(composite, {compute_checksum(a, p1), compute_checksum(a, p2)},
                              {p1.size(), p2.size()});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->value, compute_checksum(a, compute_checksum(a, p1) + compute_checksum(a, p2)));
  EXPECT_EQ(checksum_wire_value(*c), base64_encode(c->value) + "-2");

  model::object_checksum full{a, false, 0, {}};
  auto f = multipart_checksum(full, {compute_checksum(a, p1), compute_checksum(a, p2)},
                              {p1.size(), p2.size()});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->value, compute_checksum(a, p1 + p2));
  EXPECT_EQ(checksum_wire_value(*f), base64_encode(f->value));

  // A part without its checksum: no object checksum.
  EXPECT_FALSE(multipart_checksum(composite, {compute_checksum(a, p1), ""}, {1000, 10}));

  http::header_map h;
  set_checksum_headers(h, *c);
  EXPECT_EQ(h.get("x-amz-checksum-crc32c"), checksum_wire_value(*c));
  EXPECT_EQ(h.get("x-amz-checksum-type"), "COMPOSITE");
}

TEST(multipart_checksum, complete_checks_parts_and_object) {
  auto a = checksum_algorithm::sha256;
  std::vector<model::part_key> chosen{{1, 0}, {2, 0}};
  std::vector<std::string> sums{compute_checksum(a, "one"), compute_checksum(a, "two")};
  std::vector<uint64_t> sizes{3, 3};
  model::object_checksum upload{a, true, 0, {}};
  auto body = [&](const std::string& second) {
    return "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag>"
           "<ChecksumSHA256>" +
           base64_encode(sums[0]) +
           "</ChecksumSHA256></Part><Part><PartNumber>2</PartNumber><ETag>y</ETag>"
           "<ChecksumSHA256>" +
           second + "</ChecksumSHA256></Part></CompleteMultipartUpload>";
  };
  auto ok =
      complete_checksum(headers({}), body(base64_encode(sums[1])), upload, chosen, sums, sizes);
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_TRUE(*ok);
  EXPECT_EQ((*ok)->part_count, 2u);

  auto wrong_part =
      complete_checksum(headers({}), body(base64_encode(sums[0])), upload, chosen, sums, sizes);
  ASSERT_FALSE(wrong_part);
  EXPECT_EQ(wrong_part.error().code, s3_errc::invalid_part);

  auto good_header =
      complete_checksum(headers({{"x-amz-checksum-sha256", checksum_wire_value(**ok)}}), "", upload,
                        chosen, sums, sizes);
  EXPECT_TRUE(good_header);
  auto bad_header =
      complete_checksum(headers({{"x-amz-checksum-sha256", base64_encode(sums[0]) + "-2"}}), "",
                        upload, chosen, sums, sizes);
  ASSERT_FALSE(bad_header);
  EXPECT_EQ(bad_header.error().code, s3_errc::bad_digest);
  auto other_alg =
      complete_checksum(headers({{"x-amz-checksum-crc32", b64(checksum_algorithm::crc32, "x")}}),
                        "", upload, chosen, sums, sizes);
  ASSERT_FALSE(other_alg);
  EXPECT_EQ(other_alg.error().code, s3_errc::invalid_request);
  // No algorithm at creation: no object checksum.
  auto plain = complete_checksum(headers({}), "", std::nullopt, chosen, sums, sizes);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(*plain);
}

// --- Tags and conditional writes. ---

TEST(object_tags, header_is_url_encoded) {
  auto t = parse_tagging_header(headers({{"x-amz-tagging", "a=1&b%20c=d+e&empty="}}));
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(*t, (model::header_list{{"a", "1"}, {"b c", "d e"}, {"empty", ""}}));
  auto none = parse_tagging_header(headers({}));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto bad = parse_tagging_header(headers({{"x-amz-tagging", "a=%zz"}}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, s3_errc::invalid_argument);
}

TEST(object_tags, limits_are_invalid_tag) {
  auto check = [](model::header_list tags) {
    auto r = validate_tags(tags);
    return r ? std::optional<s3_errc>() : std::optional<s3_errc>(r.error().code);
  };
  model::header_list ten;
  for (int i = 0; i < 10; ++i) ten.emplace_back("k" + std::to_string(i), "v");
  EXPECT_EQ(check(ten), std::nullopt);
  auto eleven = ten;
  eleven.emplace_back("k10", "v");
  EXPECT_EQ(check(eleven), s3_errc::invalid_tag);
  EXPECT_EQ(check({{std::string(128, 'k'), std::string(256, 'v')}}), std::nullopt);
  EXPECT_EQ(check({{std::string(129, 'k'), "v"}}), s3_errc::invalid_tag);
  EXPECT_EQ(check({{"k", std::string(257, 'v')}}), s3_errc::invalid_tag);
  // Characters, not bytes: 128 two-byte characters are fine.
  std::string e_acute;
  for (int i = 0; i < 128; ++i) e_acute += "\xc3\xa9";
  EXPECT_EQ(check({{e_acute, "v"}}), std::nullopt);
  EXPECT_EQ(check({{"a", "1"}, {"a", "2"}}), s3_errc::invalid_tag);
  EXPECT_EQ(check({{"", "v"}}), s3_errc::invalid_tag);
  EXPECT_EQ(check({{"aws:reserved", "v"}}), s3_errc::invalid_tag);
}

TEST(object_tags, xml_round_trip_and_errors) {
  model::header_list tags{{"Project", "a & b"}, {"empty", ""}};
  auto back = parse_tagging_xml(tagging_xml(tags));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, tags);
  auto empty = parse_tagging_xml("<Tagging><TagSet/></Tagging>");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  for (std::string bad : {"<Tagging>", "<Other><TagSet/></Other>", "<Tagging></Tagging>",
                          "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
                          "<Tagging><TagSet><Foo/></TagSet></Tagging>"}) {
    auto r = parse_tagging_xml(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, s3_errc::malformed_xml) << bad;
  }
  auto dup = parse_tagging_xml(
      "<Tagging><TagSet><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value>"
      "</Tag></TagSet></Tagging>");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, s3_errc::invalid_tag);
}

TEST(object_tags, tagging_count_header) {
  http::header_map h;
  model::object_meta m;
  set_tagging_count_header(h, m);
  EXPECT_FALSE(h.has("x-amz-tagging-count"));
  m.tags = {{"a", "1"}, {"b", "2"}};
  set_tagging_count_header(h, m);
  EXPECT_EQ(h.get("x-amz-tagging-count"), "2");
}

TEST(write_precondition, headers) {
  auto none = parse_write_precondition(headers({}));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->any());
  auto star = parse_write_precondition(headers({{"If-None-Match", "*"}}));
  ASSERT_TRUE(star);
  EXPECT_TRUE(star->if_none_match_any);
  auto match = parse_write_precondition(headers({{"If-Match", "\"abc\""}}));
  ASSERT_TRUE(match);
  EXPECT_EQ(match->if_match, "abc");
  auto etag = parse_write_precondition(headers({{"If-None-Match", "\"abc\""}}));
  ASSERT_FALSE(etag);
  EXPECT_EQ(etag.error().code, s3_errc::not_implemented);

  auto failed = precondition_error(error(errc::already_exists, "x"), "/b/k");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->code, s3_errc::precondition_failed);
  EXPECT_EQ(failed->status(), 412u);
  auto missing =
      precondition_error(error(errc::not_found, std::string(model::kIfMatchNoObject)), "");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->code, s3_errc::no_such_key);
  EXPECT_FALSE(precondition_error(error(errc::not_found, "no such upload"), ""));
}

}  // namespace
}  // namespace garage::s3
