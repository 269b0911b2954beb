// ListMultipartUploads with a delimiter: the Delimiter element and the
// CommonPrefixes after the uploads, as AWS writes them.
#include <gtest/gtest.h>

#include "api/s3/s3_xml.h"

namespace garage::s3 {
namespace {

TEST(list_uploads_xml, delimiter_and_common_prefixes) {
  list_uploads_result r;
  r.bucket = "b";
  r.prefix = "d/";
  r.delimiter = "/";
  r.uploads.push_back({"d/b", "u1", 0});
  r.common_prefixes = {"d/a/", "d/c&/"};
  auto xml = list_uploads_xml(r);
  EXPECT_NE(xml.find("<Delimiter>/</Delimiter>"), std::string::npos);
  auto upload = xml.find("<Upload>");
  auto first = xml.find("<CommonPrefixes><Prefix>d/a/</Prefix></CommonPrefixes>");
  auto second = xml.find("<CommonPrefixes><Prefix>d/c&amp;/</Prefix></CommonPrefixes>");
  ASSERT_NE(upload, std::string::npos);
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  EXPECT_LT(upload, first);
  EXPECT_LT(first, second);
}

TEST(list_uploads_xml, no_delimiter_no_element) {
  list_uploads_result r;
  r.bucket = "b";
  auto xml = list_uploads_xml(r);
  EXPECT_EQ(xml.find("<Delimiter>"), std::string::npos);
  EXPECT_EQ(xml.find("<CommonPrefixes>"), std::string::npos);
}

}  // namespace
}  // namespace garage::s3
