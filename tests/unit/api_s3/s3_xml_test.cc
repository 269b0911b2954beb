#include "api/s3/s3_xml.h"

#include <gtest/gtest.h>

#include "api/s3/s3_error.h"

namespace garage::s3 {
namespace {

bool contains(const std::string& hay, std::string_view needle) {
  return hay.find(needle) != std::string::npos;
}

TEST(s3_xml, escape) {
  EXPECT_EQ(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(xml_escape(std::string("\x01\r\t\n", 4)), "&#x1;&#xD;\t\n");
  EXPECT_EQ(xml_escape("\xc3\xa9"), "\xc3\xa9");
}

TEST(s3_xml, error_document) {
  auto e = make_error(s3_errc::no_such_key, "", "/bucket/a&b");
  std::string x = error_xml(e, "req-1");
  EXPECT_EQ(x,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The "
            "specified key does not exist.</Message><Resource>/bucket/a&amp;b</"
            "Resource><RequestId>req-1</RequestId></Error>");
}

TEST(s3_xml, list_buckets) {
  std::string x = list_buckets_xml({"owner-id", "me"}, {{"a<b", 0}, {"c", 1000}});
  EXPECT_TRUE(
      contains(x, "<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"));
  EXPECT_TRUE(contains(x, "<Owner><ID>owner-id</ID><DisplayName>me</DisplayName></Owner>"));
  EXPECT_TRUE(contains(x, "<Bucket><Name>a&lt;b</Name><CreationDate>1970-01-01T00:00:00.000Z"));
  EXPECT_TRUE(contains(x, "<Name>c</Name><CreationDate>1970-01-01T00:00:01.000Z"));
}

list_objects_result sample_list(bool v2, bool url) {
  list_objects_result r;
  r.v2 = v2;
  r.bucket = "bkt";
  r.prefix = "dir a/";
  r.delimiter = "/";
  r.max_keys = 2;
  r.url_encoding = url;
  r.is_truncated = true;
  r.marker = "dir a/m+";
  r.next_marker = "dir a/z";
  r.continuation_token = "tok";
  r.next_continuation_token = "tok2";
  r.start_after = "dir a/s";
  r.contents.push_back({"dir a/x&y+z.txt", 1000, "\"etag1\"", 42, "STANDARD"});
  r.common_prefixes.push_back("dir a/sub dir/");
  return r;
}

TEST(s3_xml, list_objects_v1) {
  std::string x = list_objects_xml(sample_list(false, false));
  EXPECT_TRUE(contains(x, "<ListBucketResult xmlns="));
  EXPECT_TRUE(contains(x, "<Name>bkt</Name><Prefix>dir a/</Prefix><Marker>dir a/m+</Marker>"));
  EXPECT_TRUE(contains(x, "<NextMarker>dir a/z</NextMarker>"));
  EXPECT_TRUE(contains(x, "<MaxKeys>2</MaxKeys><Delimiter>/</Delimiter>"));
  EXPECT_TRUE(contains(x, "<IsTruncated>true</IsTruncated>"));
  EXPECT_TRUE(contains(x, "<Key>dir a/x&amp;y+z.txt</Key>"));
  EXPECT_TRUE(contains(x, "<ETag>&quot;etag1&quot;</ETag><Size>42</Size>"));
  EXPECT_TRUE(contains(x, "<CommonPrefixes><Prefix>dir a/sub dir/</Prefix></CommonPrefixes>"));
  EXPECT_FALSE(contains(x, "EncodingType"));
  EXPECT_FALSE(contains(x, "KeyCount"));
  EXPECT_FALSE(contains(x, "<Owner>"));
}

TEST(s3_xml, list_objects_v2_url_encoded_with_owner) {
  auto r = sample_list(true, true);
  r.entry_owner = owner{"id1", "name1"};
  std::string x = list_objects_xml(r);
  EXPECT_TRUE(contains(x, "<Prefix>dir%20a/</Prefix>"));
  EXPECT_TRUE(contains(x, "<StartAfter>dir%20a/s</StartAfter>"));
  EXPECT_TRUE(contains(x, "<ContinuationToken>tok</ContinuationToken>"));
  EXPECT_TRUE(contains(x, "<NextContinuationToken>tok2</NextContinuationToken>"));
  EXPECT_TRUE(contains(x, "<KeyCount>2</KeyCount>"));
  EXPECT_TRUE(contains(x, "<Delimiter>%2F</Delimiter>") || contains(x, "<Delimiter>/</Delimiter>"));
  EXPECT_TRUE(contains(x, "<EncodingType>url</EncodingType>"));
  // '+' must be encoded: botocore decodes with unquote_plus.
  EXPECT_TRUE(contains(x, "<Key>dir%20a/x%26y%2Bz.txt</Key>"));
  EXPECT_TRUE(contains(x, "<Owner><ID>id1</ID><DisplayName>name1</DisplayName></Owner>"));
  EXPECT_TRUE(contains(x, "<Prefix>dir%20a/sub%20dir/</Prefix>"));
  EXPECT_FALSE(contains(x, "<Marker>"));
}

TEST(s3_xml, parse_delete) {
  auto r = parse_delete_request(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
      "  <Object><Key>a&amp;b</Key></Object>\n"
      "  <Object><Key> </Key><VersionId>v1</VersionId></Object>\n"
      "  <Object><Key><![CDATA[<x>]]></Key></Object>\n"
      "  <Quiet>true</Quiet>\n"
      "</Delete>");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->objects.size(), 3u);
  EXPECT_EQ(r->objects[0].key, "a&b");
  EXPECT_FALSE(r->objects[0].version_id);
  EXPECT_EQ(r->objects[1].key, " ");
  EXPECT_EQ(r->objects[1].version_id, "v1");
  EXPECT_EQ(r->objects[2].key, "<x>");
  EXPECT_TRUE(r->quiet);
}

TEST(s3_xml, parse_delete_rejects_malformed) {
  std::string thousand_and_one = "<Delete>";
  for (int i = 0; i < 1001; ++i) thousand_and_one += "<Object><Key>k</Key></Object>";
  thousand_and_one += "</Delete>";
  for (std::string bad :
       {std::string(""), std::string("not xml"), std::string("<Delete>"),
        std::string("<Delete></Delete>"),
        std::string("<Other><Object><Key>k</Key></Object></Other>"),
        std::string("<Delete><Object><VersionId>v</VersionId></Object></Delete>"),
        std::string("<Delete><Object><Key>k</Key></Object><Quiet>maybe</Quiet></Delete>"),
        std::string("<Delete><Object><Key>k</Key></Object></Delete><Extra/>"),
        std::string(
            "<!DOCTYPE d [<!ENTITY e \"x\">]><Delete><Object><Key>&e;</Key></Object></Delete>"),
        thousand_and_one}) {
    auto r = parse_delete_request(bad);
    ASSERT_FALSE(r) << bad.substr(0, 80);
    EXPECT_EQ(r.error().code, s3_errc::malformed_xml);
    EXPECT_EQ(r.error().status(), 400u);
  }
  std::string thousand = "<Delete>";
  for (int i = 0; i < 1000; ++i) thousand += "<Object><Key>k</Key></Object>";
  thousand += "</Delete>";
  EXPECT_TRUE(parse_delete_request(thousand));
}

TEST(s3_xml, delete_result) {
  std::vector<deleted_item> deleted{{"a&b", std::nullopt, std::nullopt},
                                    {"c", std::string("v1"), std::string("dm1")}};
  std::vector<delete_error_item> errors{{"d", std::nullopt, make_error(s3_errc::access_denied)}};
  std::string x = delete_result_xml(deleted, errors, false);
  EXPECT_TRUE(contains(x, "<Deleted><Key>a&amp;b</Key></Deleted>"));
  EXPECT_TRUE(
      contains(x,
               "<Deleted><Key>c</Key><VersionId>v1</VersionId><DeleteMarker>true</"
               "DeleteMarker><DeleteMarkerVersionId>dm1</DeleteMarkerVersionId></Deleted>"));
  EXPECT_TRUE(contains(
      x, "<Error><Key>d</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"));
  std::string quiet = delete_result_xml(deleted, errors, true);
  EXPECT_FALSE(contains(quiet, "<Deleted>"));
  EXPECT_TRUE(contains(quiet, "<Error>"));
}

TEST(s3_xml, location) {
  EXPECT_TRUE(contains(location_constraint_xml("garage"), ">garage</LocationConstraint>"));
  auto c = parse_create_bucket_configuration("");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->location_constraint);
  c = parse_create_bucket_configuration("  \n");
  ASSERT_TRUE(c);
  c = parse_create_bucket_configuration(
      "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<LocationConstraint>garage</LocationConstraint></CreateBucketConfiguration>");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->location_constraint, "garage");
  c = parse_create_bucket_configuration("<CreateBucketConfiguration/>");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->location_constraint);
  for (const char* bad : {"<CreateBucketConfiguration>", "<Other/>", "garbage"}) {
    auto e = parse_create_bucket_configuration(bad);
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().code, s3_errc::malformed_xml);
  }
}

}  // namespace
}  // namespace garage::s3
