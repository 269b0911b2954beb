// CORS, website and lifecycle configuration documents: parsing, the
// validation errors AWS answers, and writing them back.
#include "api/s3/bucket_config_xml.h"

#include <gtest/gtest.h>

namespace garage::s3 {
namespace {

template <class T>
s3_errc code_of(const s3_result<T>& r) {
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? s3_errc::internal_error : r.error().code;
}

// ------------------------------------------------------------------ CORS

constexpr const char* kCors = R"(<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <ID>browser uploads</ID>
    <AllowedOrigin>https://*.example.com</AllowedOrigin>
    <AllowedOrigin>http://localhost:8080</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>POST</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
  </CORSRule>
</CORSConfiguration>)";

TEST(cors_xml, parses_rules) {
  auto c = parse_cors_configuration(kCors);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  ASSERT_EQ(c->rules.size(), 2u);
  const auto& r = c->rules[0];
  EXPECT_EQ(r.id, "browser uploads");
  EXPECT_EQ(r.allowed_origins,
            (std::vector<std::string>{"https://*.example.com", "http://localhost:8080"}));
  EXPECT_EQ(r.allowed_methods, (std::vector<std::string>{"PUT", "POST"}));
  EXPECT_EQ(r.allowed_headers, (std::vector<std::string>{"*"}));
  EXPECT_EQ(r.expose_headers, (std::vector<std::string>{"ETag"}));
  EXPECT_EQ(r.max_age_seconds, 3000u);
  EXPECT_FALSE(c->rules[1].max_age_seconds.has_value());
}

TEST(cors_xml, round_trip) {
  auto c = parse_cors_configuration(kCors);
  ASSERT_TRUE(c.has_value());
  auto again = parse_cors_configuration(cors_configuration_xml(*c));
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(*again, *c);
}

TEST(cors_xml, validation) {
  auto doc = [](const std::string& rule) {
    return "<CORSConfiguration><CORSRule>" + rule + "</CORSRule></CORSConfiguration>";
  };
  EXPECT_EQ(code_of(parse_cors_configuration("not xml")), s3_errc::malformed_xml);
  EXPECT_EQ(code_of(parse_cors_configuration("<CORSConfiguration/>")), s3_errc::malformed_xml);
  EXPECT_EQ(code_of(parse_cors_configuration("<Other><CORSRule/></Other>")),
            s3_errc::malformed_xml);
  // Origin and method are required.
  EXPECT_EQ(code_of(parse_cors_configuration(doc("<AllowedMethod>GET</AllowedMethod>"))),
            s3_errc::malformed_xml);
  EXPECT_EQ(code_of(parse_cors_configuration(doc("<AllowedOrigin>*</AllowedOrigin>"))),
            s3_errc::malformed_xml);
  EXPECT_EQ(code_of(parse_cors_configuration(
                doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"))),
            s3_errc::invalid_request);
  EXPECT_EQ(
      code_of(parse_cors_configuration(
          doc("<AllowedOrigin>https://*.*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"))),
      s3_errc::invalid_request);
  EXPECT_EQ(code_of(parse_cors_configuration(
                doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                    "<AllowedHeader>x-*-*</AllowedHeader>"))),
            s3_errc::invalid_request);
  EXPECT_EQ(code_of(parse_cors_configuration(
                doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                    "<MaxAgeSeconds>soon</MaxAgeSeconds>"))),
            s3_errc::malformed_xml);
  EXPECT_EQ(code_of(parse_cors_configuration(
                doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                    "<Unknown/>"))),
            s3_errc::malformed_xml);
  EXPECT_EQ(code_of(parse_cors_configuration(doc("<ID>" + std::string(256, 'i') +
                                                 "</ID><AllowedOrigin>*</AllowedOrigin>"
                                                 "<AllowedMethod>GET</AllowedMethod>"))),
            s3_errc::invalid_argument);
  std::string many = "<CORSConfiguration>";
  for (int i = 0; i < 101; ++i)
    many +=
        "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>";
  many += "</CORSConfiguration>";
  EXPECT_EQ(code_of(parse_cors_configuration(many)), s3_errc::malformed_xml);
}

// ------------------------------------------------------------------ website

TEST(website_xml, index_error_and_routing_rules) {
  auto w = parse_website_configuration(R"(<WebsiteConfiguration>
    <IndexDocument><Suffix>index.html</Suffix></IndexDocument>
    <ErrorDocument><Key>errors/404.html</Key></ErrorDocument>
    <RoutingRules>
      <RoutingRule>
        <Condition><KeyPrefixEquals>docs/</KeyPrefixEquals></Condition>
        <Redirect><ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith>
                  <HttpRedirectCode>302</HttpRedirectCode></Redirect>
      </RoutingRule>
      <RoutingRule>
        <Condition><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals></Condition>
        <Redirect><HostName>example.com</HostName><Protocol>https</Protocol></Redirect>
      </RoutingRule>
    </RoutingRules>
  </WebsiteConfiguration>)");
  ASSERT_TRUE(w.has_value()) << w.error().message;
  EXPECT_EQ(w->index_document, "index.html");
  EXPECT_EQ(w->error_document, "errors/404.html");
  ASSERT_EQ(w->routing_rules.size(), 2u);
  EXPECT_EQ(w->routing_rules[0].key_prefix_equals, "docs/");
  EXPECT_EQ(w->routing_rules[0].replace_key_prefix_with, "documents/");
  EXPECT_EQ(w->routing_rules[0].http_redirect_code, 302u);
  EXPECT_EQ(w->routing_rules[1].http_error_code_returned_equals, 404u);
  EXPECT_EQ(w->routing_rules[1].host_name, "example.com");
  auto again = parse_website_configuration(website_configuration_xml(*w));
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(*again, *w);
}

TEST(website_xml, redirect_all) {
  auto w = parse_website_configuration(
      "<WebsiteConfiguration><RedirectAllRequestsTo><HostName>example.org</HostName>"
      "<Protocol>https</Protocol></RedirectAllRequestsTo></WebsiteConfiguration>");
  ASSERT_TRUE(w.has_value()) << w.error().message;
  ASSERT_TRUE(w->redirect_all.has_value());
  EXPECT_EQ(w->redirect_all->host_name, "example.org");
  auto again = parse_website_configuration(website_configuration_xml(*w));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *w);
}

TEST(website_xml, validation) {
  auto doc = [](const std::string& body) {
    return "<WebsiteConfiguration>" + body + "</WebsiteConfiguration>";
  };
  const std::string index = "<IndexDocument><Suffix>index.html</Suffix></IndexDocument>";
  EXPECT_EQ(code_of(parse_website_configuration(doc(""))), s3_errc::invalid_argument);
  EXPECT_EQ(code_of(parse_website_configuration(
                doc("<IndexDocument><Suffix>a/index.html</Suffix></IndexDocument>"))),
            s3_errc::invalid_argument);
  EXPECT_EQ(
      code_of(parse_website_configuration(doc("<IndexDocument><Suffix></Suffix></IndexDocument>"))),
      s3_errc::invalid_argument);
  EXPECT_EQ(code_of(parse_website_configuration(doc(
                index + "<RedirectAllRequestsTo><HostName>h</HostName></RedirectAllRequestsTo>"))),
            s3_errc::invalid_request);
  EXPECT_EQ(code_of(parse_website_configuration(
                doc("<RedirectAllRequestsTo><HostName>h</HostName><Protocol>ftp</Protocol>"
                    "</RedirectAllRequestsTo>"))),
            s3_errc::invalid_request);
  auto rule = [&](const std::string& r) {
    return doc(index + "<RoutingRules><RoutingRule>" + r + "</RoutingRule></RoutingRules>");
  };
  EXPECT_EQ(code_of(parse_website_configuration(
                rule("<Redirect><HttpRedirectCode>200</HttpRedirectCode></Redirect>"))),
            s3_errc::invalid_request);
  EXPECT_EQ(code_of(parse_website_configuration(
                rule("<Redirect><ReplaceKeyWith>a</ReplaceKeyWith><ReplaceKeyPrefixWith>b"
                     "</ReplaceKeyPrefixWith></Redirect>"))),
            s3_errc::invalid_request);
  EXPECT_EQ(code_of(parse_website_configuration(
                rule("<Condition><KeyPrefixEquals>a</KeyPrefixEquals></Condition>"))),
            s3_errc::malformed_xml);  // no Redirect
  EXPECT_EQ(code_of(parse_website_configuration(
                rule("<Condition/><Redirect><HostName>h</HostName></Redirect>"))),
            s3_errc::invalid_request);
  EXPECT_EQ(code_of(parse_website_configuration(
                rule("<Condition><HttpErrorCodeReturnedEquals>200</HttpErrorCodeReturnedEquals>"
                     "</Condition><Redirect><HostName>h</HostName></Redirect>"))),
            s3_errc::invalid_request);
  EXPECT_EQ(code_of(parse_website_configuration(doc(index + "<Bogus/>"))), s3_errc::malformed_xml);
}

// ------------------------------------------------------------------ lifecycle

TEST(lifecycle_xml, rules_filters_and_actions) {
  auto c = parse_lifecycle_configuration(R"(<LifecycleConfiguration>
    <Rule>
      <ID>logs</ID>
      <Filter><And><Prefix>logs/</Prefix><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan>
        <ObjectSizeLessThan>1000</ObjectSizeLessThan></And></Filter>
      <Status>Enabled</Status>
      <Expiration><Days>30</Days></Expiration>
      <AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation>
      </AbortIncompleteMultipartUpload>
    </Rule>
    <Rule>
      <ID>old</ID>
      <Filter><Prefix>tmp/</Prefix></Filter>
      <Status>Disabled</Status>
      <Expiration><Date>2024-01-02T00:00:00.000Z</Date></Expiration>
    </Rule>
    <Rule>
      <Prefix>legacy/</Prefix>
      <Status>Enabled</Status>
      <Expiration><Days>1</Days></Expiration>
    </Rule>
  </LifecycleConfiguration>)");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  ASSERT_EQ(c->rules.size(), 3u);
  const auto& a = c->rules[0];
  EXPECT_EQ(a.id, "logs");
  EXPECT_TRUE(a.enabled);
  EXPECT_EQ(a.filter.prefix, "logs/");
  EXPECT_EQ(a.filter.size_greater_than, 100u);
  EXPECT_EQ(a.filter.size_less_than, 1000u);
  EXPECT_EQ(a.expiration_days, 30u);
  EXPECT_EQ(a.abort_incomplete_upload_days, 7u);
  const auto& b = c->rules[1];
  EXPECT_FALSE(b.enabled);
  EXPECT_EQ(b.expiration_date_msec, 1704153600000u);  // 2024-01-02T00:00:00Z
  EXPECT_EQ(c->rules[2].filter.prefix, "legacy/");

  auto again = parse_lifecycle_configuration(lifecycle_configuration_xml(*c));
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(*again, *c);
}

TEST(lifecycle_xml, date_forms) {
  for (const char* d : {"2024-01-02", "2024-01-02T00:00:00Z", "2024-01-02T00:00:00+00:00"}) {
    auto c = parse_lifecycle_configuration(
        std::string("<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter/>"
                    "<Expiration><Date>") +
        d + "</Date></Expiration></Rule></LifecycleConfiguration>");
    ASSERT_TRUE(c.has_value()) << d << ": " << c.error().message;
    EXPECT_EQ(c->rules[0].expiration_date_msec, 1704153600000u) << d;
  }
}

TEST(lifecycle_xml, validation) {
  auto rule = [](const std::string& body) {
    return "<LifecycleConfiguration><Rule>" + body + "</Rule></LifecycleConfiguration>";
  };
  const std::string ok_action = "<Expiration><Days>1</Days></Expiration>";
  const std::string status = "<Status>Enabled</Status>";
  EXPECT_TRUE(parse_lifecycle_configuration(rule(status + "<Filter/>" + ok_action)).has_value());
  EXPECT_EQ(code_of(parse_lifecycle_configuration("<LifecycleConfiguration/>")),
            s3_errc::malformed_xml);
  EXPECT_EQ(code_of(parse_lifecycle_configuration(rule("<Filter/>" + ok_action))),
            s3_errc::malformed_xml);  // no Status
  EXPECT_EQ(code_of(parse_lifecycle_configuration(rule("<Status>On</Status>" + ok_action))),
            s3_errc::malformed_xml);
  EXPECT_EQ(code_of(parse_lifecycle_configuration(rule(status + "<Filter/>"))),
            s3_errc::invalid_argument);  // no action
  EXPECT_EQ(code_of(parse_lifecycle_configuration(
                rule(status + "<Expiration><Days>0</Days></Expiration>"))),
            s3_errc::invalid_argument);
  EXPECT_EQ(code_of(parse_lifecycle_configuration(
                rule(status + "<Expiration><Days>1</Days><Date>2024-01-01</Date></Expiration>"))),
            s3_errc::malformed_xml);
  EXPECT_EQ(code_of(parse_lifecycle_configuration(
                rule(status + "<Expiration><Date>2024-01-01T12:00:00Z</Date></Expiration>"))),
            s3_errc::invalid_argument);  // not midnight
  EXPECT_EQ(code_of(parse_lifecycle_configuration(
                rule(status + "<Expiration><Date>yesterday</Date></Expiration>"))),
            s3_errc::invalid_argument);
  EXPECT_EQ(code_of(parse_lifecycle_configuration(
                rule(status + "<AbortIncompleteMultipartUpload><DaysAfterInitiation>0"
                              "</DaysAfterInitiation></AbortIncompleteMultipartUpload>"))),
            s3_errc::invalid_argument);
  EXPECT_EQ(
      code_of(parse_lifecycle_configuration(rule(status +
                                                 "<Filter><Prefix>a</Prefix><ObjectSizeLessThan>5"
                                                 "</ObjectSizeLessThan></Filter>" +
                                                 ok_action))),
      s3_errc::malformed_xml);  // two conditions need <And>
  EXPECT_EQ(code_of(parse_lifecycle_configuration(
                rule(status +
                     "<Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan>"
                     "<ObjectSizeLessThan>5</ObjectSizeLessThan></And></Filter>" +
                     ok_action))),
            s3_errc::invalid_argument);
  EXPECT_EQ(code_of(parse_lifecycle_configuration(
                rule(status + "<Filter/><Prefix>a</Prefix>" + ok_action))),
            s3_errc::malformed_xml);
  EXPECT_EQ(
      code_of(parse_lifecycle_configuration("<LifecycleConfiguration><Rule><ID>x</ID>" + status +
                                            ok_action + "</Rule><Rule><ID>x</ID>" + status +
                                            ok_action + "</Rule></LifecycleConfiguration>")),
      s3_errc::invalid_argument);  // duplicate ID
  // What this server does not apply: 501.
  EXPECT_EQ(code_of(parse_lifecycle_configuration(
                rule(status + "<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass>"
                              "</Transition>"))),
            s3_errc::not_implemented);
  EXPECT_EQ(code_of(parse_lifecycle_configuration(
                rule(status + "<NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays>"
                              "</NoncurrentVersionExpiration>"))),
            s3_errc::not_implemented);
  EXPECT_EQ(code_of(parse_lifecycle_configuration(rule(
                status + "<Filter><Tag><Key>a</Key><Value>b</Value></Tag></Filter>" + ok_action))),
            s3_errc::not_implemented);
}

}  // namespace
}  // namespace garage::s3
