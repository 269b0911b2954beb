// Website requests: Host → bucket, request target → object key.
#include "web/website_request.h"

#include <gtest/gtest.h>

namespace garage::web {
namespace {

TEST(website_request, bucket_from_host) {
  EXPECT_EQ(bucket_from_host("blog.web.garage.localhost", ".web.garage.localhost"), "blog");
  EXPECT_EQ(bucket_from_host("blog.web.garage.localhost:3902", "web.garage.localhost"), "blog");
  EXPECT_EQ(bucket_from_host("My.Site.WEB.garage.localhost", ".web.garage.localhost"), "my.site");
  EXPECT_EQ(bucket_from_host("blog.web.garage.localhost.", ".web.garage.localhost"), "blog");
  // Any other host is a global alias, whole.
  EXPECT_EQ(bucket_from_host("www.example.com", ".web.garage.localhost"), "www.example.com");
  EXPECT_EQ(bucket_from_host("www.example.com:8080", ""), "www.example.com");
  // The root domain alone is not "<empty bucket>".
  EXPECT_EQ(bucket_from_host("web.garage.localhost", ".web.garage.localhost"),
            "web.garage.localhost");
  EXPECT_EQ(bucket_from_host(".web.garage.localhost", ".web.garage.localhost"),
            ".web.garage.localhost");
  EXPECT_FALSE(bucket_from_host("", ".web.garage.localhost"));
  EXPECT_FALSE(bucket_from_host(":3902", ".web.garage.localhost"));
}

TEST(website_request, index_documents_for_directories) {
  EXPECT_EQ(key_from_target("/", "index.html"), "index.html");
  EXPECT_EQ(key_from_target("", "index.html"), "index.html");
  EXPECT_EQ(key_from_target("/dir/", "index.html"), "dir/index.html");
  EXPECT_EQ(key_from_target("/dir/?x=1", "index.htm"), "dir/index.htm");
  EXPECT_EQ(key_from_target("/dir", "index.html"), "dir");
  EXPECT_EQ(key_from_target("/page.html?v=2#frag", "index.html"), "page.html");
  EXPECT_EQ(key_from_target("/a%20b/c%2Fd.txt", "index.html"), "a b/c/d.txt");
  EXPECT_EQ(key_from_target("/a+b", "index.html"), "a+b");  // '+' is literal in a path
  EXPECT_EQ(key_from_target("http://blog.example.com/x/", "index.html"), "x/index.html");
  EXPECT_EQ(key_from_target("http://blog.example.com", "index.html"), "index.html");
  EXPECT_FALSE(key_from_target("/bad%2", "index.html"));
  EXPECT_FALSE(key_from_target("/bad%zz", "index.html"));
}

TEST(website_request, path_keeps_the_request_form) {
  EXPECT_EQ(path_from_target("/"), "");
  EXPECT_EQ(path_from_target("/docs/"), "docs/");
  EXPECT_EQ(path_from_target("/docs/a.html?q"), "docs/a.html");
}

}  // namespace
}  // namespace garage::web
