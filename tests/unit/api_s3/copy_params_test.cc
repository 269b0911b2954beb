// CopyObject / UploadPartCopy request pieces: copy-source header forms,
// x-amz-copy-source-range edges, copy conditions, metadata directive, which
// blocks a range shares whole and which it cuts, and the result document.
#include "api/s3/copy_params.h"

#include <gtest/gtest.h>

#include "api/s3/copy_source_loader.h"
#include "api/s3/router.h"

namespace garage::s3 {
namespace {

TEST(copy_source_header, forms) {
  auto a = parse_copy_source("/bkt/dir/my%20key");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->bucket, "bkt");
  EXPECT_EQ(a->key, "dir/my key");
  EXPECT_FALSE(a->version_id);
  auto b = parse_copy_source("bkt/k?versionId=null");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->key, "k");
  EXPECT_EQ(b->version_id, "null");
  for (const char* bad : {"", "/", "bkt", "bkt/", "/bkt/", "%zz/k"}) {
    auto r = parse_copy_source(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, s3_errc::invalid_argument) << bad;
  }
}

TEST(copy_source_range, valid_ranges) {
  auto r = parse_copy_source_range("bytes=0-9", 10);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (http::byte_range{0, 10}));
  r = parse_copy_source_range("bytes=9-9", 10);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (http::byte_range{9, 1}));
  r = parse_copy_source_range("bytes=5242880-10485759", 20 << 20);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->length, 5u << 20);
}

TEST(copy_source_range, malformed_is_invalid_argument) {
  for (const char* bad : {"0-9", "bytes=", "bytes=-5", "bytes=5-", "bytes=a-b", "bytes=5-2",
                          "bytes=0-1,3-4", "items=0-1", "bytes=0-99999999999999999999"}) {
    auto r = parse_copy_source_range(bad, 10);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, s3_errc::invalid_argument) << bad;
    EXPECT_NE(r.error().message.find("bytes=first-last"), std::string::npos) << bad;
  }
}

TEST(copy_source_range, past_the_end_names_the_size) {
  for (const char* bad : {"bytes=0-10", "bytes=10-10", "bytes=3-200"}) {
    auto r = parse_copy_source_range(bad, 10);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, s3_errc::invalid_argument);
    EXPECT_NE(r.error().message.find("size: 10"), std::string::npos);
  }
  EXPECT_FALSE(parse_copy_source_range("bytes=0-0", 0));
}

TEST(copy_conditions, each_header) {
  const std::string etag = "\"abc\"";
  const uint64_t modified = 1'700'000'000'000;  // msec
  auto check = [&](std::initializer_list<std::pair<const char*, const char*>> hs) {
    http::header_map h;
    for (auto [k, v] : hs) h.add(k, v);
    return check_copy_conditions(h, etag, modified).has_value();
  };
  EXPECT_TRUE(check({}));
  EXPECT_TRUE(check({{"x-amz-copy-source-if-match", "\"abc\""}}));
  EXPECT_FALSE(check({{"x-amz-copy-source-if-match", "\"other\""}}));
  EXPECT_TRUE(check({{"x-amz-copy-source-if-none-match", "\"other\""}}));
  EXPECT_FALSE(check({{"x-amz-copy-source-if-none-match", "\"abc\""}}));
  // 2023-11-14T22:13:20Z is the modification time.
  EXPECT_FALSE(check({{"x-amz-copy-source-if-modified-since", "Wed, 15 Nov 2023 00:00:00 GMT"}}));
  EXPECT_TRUE(check({{"x-amz-copy-source-if-modified-since", "Mon, 13 Nov 2023 00:00:00 GMT"}}));
  EXPECT_FALSE(check({{"x-amz-copy-source-if-unmodified-since", "Mon, 13 Nov 2023 00:00:00 GMT"}}));
  EXPECT_TRUE(check({{"x-amz-copy-source-if-unmodified-since", "Wed, 15 Nov 2023 00:00:00 GMT"}}));
  // AWS: if-match true and if-unmodified-since false → copy.
  EXPECT_TRUE(check({{"x-amz-copy-source-if-match", "\"abc\""},
                     {"x-amz-copy-source-if-unmodified-since", "Mon, 13 Nov 2023 00:00:00 GMT"}}));
  // AWS: if-none-match false and if-modified-since true → 412.
  EXPECT_FALSE(check({{"x-amz-copy-source-if-none-match", "\"abc\""},
                      {"x-amz-copy-source-if-modified-since", "Mon, 13 Nov 2023 00:00:00 GMT"}}));
  // The plain If-* headers of the request are not about the source.
  EXPECT_TRUE(check({{"if-match", "\"other\""}}));
  http::header_map h;
  h.add("x-amz-copy-source-if-match", "\"other\"");
  EXPECT_EQ(check_copy_conditions(h, etag, modified).error().code, s3_errc::precondition_failed);
}

TEST(metadata_directive, values) {
  EXPECT_EQ(*parse_metadata_directive(std::nullopt), metadata_directive::copy);
  EXPECT_EQ(*parse_metadata_directive("COPY"), metadata_directive::copy);
  EXPECT_EQ(*parse_metadata_directive("REPLACE"), metadata_directive::replace);
  EXPECT_EQ(parse_metadata_directive("replace").error().code, s3_errc::invalid_argument);
  EXPECT_EQ(parse_metadata_directive("").error().code, s3_errc::invalid_argument);
}

model::version three_blocks() {  // 10 + 10 + 5 bytes
  model::version v;
  uint64_t off = 0;
  for (uint64_t size : {10, 10, 5}) {
    model::version_block b;
    b.hash.bytes[0] = static_cast<uint8_t>(off);
    b.size = size;
    v.blocks.emplace(model::block_location{0, 0, off}, b);
    off += size;
  }
  return v;
}

TEST(plan_copy, whole_object_shares_every_block) {
  auto pieces = plan_copy(three_blocks(), 0, 25);
  ASSERT_EQ(pieces.size(), 3u);
  for (const auto& p : pieces) EXPECT_TRUE(p.whole());
  EXPECT_EQ(pieces[2].to, 5u);
}

TEST(plan_copy, range_edges_are_cut) {
  auto pieces = plan_copy(three_blocks(), 5, 17);  // bytes 5..21
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_FALSE(pieces[0].whole());
  EXPECT_EQ(pieces[0].from, 5u);
  EXPECT_EQ(pieces[0].to, 10u);
  EXPECT_TRUE(pieces[1].whole());
  EXPECT_FALSE(pieces[2].whole());
  EXPECT_EQ(pieces[2].from, 0u);
  EXPECT_EQ(pieces[2].to, 2u);
}

TEST(plan_copy, block_aligned_range_and_inner_range) {
  auto aligned = plan_copy(three_blocks(), 10, 10);
  ASSERT_EQ(aligned.size(), 1u);
  EXPECT_TRUE(aligned[0].whole());
  EXPECT_EQ(aligned[0].loc.offset, 10u);
  auto inner = plan_copy(three_blocks(), 12, 3);
  ASSERT_EQ(inner.size(), 1u);
  EXPECT_EQ(inner[0].from, 2u);
  EXPECT_EQ(inner[0].to, 5u);
  EXPECT_FALSE(inner[0].whole());
  EXPECT_TRUE(plan_copy(three_blocks(), 0, 0).empty());
  auto last = plan_copy(three_blocks(), 24, 1);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].from, 4u);
  EXPECT_EQ(last[0].to, 5u);
}

TEST(copy_result, document) {
  auto xml = copy_result_xml("CopyObjectResult", 0, "\"abc\"");
  EXPECT_NE(xml.find("<CopyObjectResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"),
            std::string::npos);
  EXPECT_NE(xml.find("<LastModified>1970-01-01T00:00:00.000Z</LastModified>"), std::string::npos);
  EXPECT_NE(xml.find("<ETag>&quot;abc&quot;</ETag>"), std::string::npos);
  EXPECT_NE(xml.find("</CopyObjectResult>"), std::string::npos);
}

TEST(copy_result, etag_of_a_rederived_copy) {
  EXPECT_EQ(copy_etag(std::nullopt, std::string(16, '\0')), std::string(32, '0'));
  auto a = copy_etag(std::string(32, 'k'), "");
  auto b = copy_etag(std::string(32, 'k'), "");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace garage::s3
