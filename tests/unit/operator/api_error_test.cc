#include "k8s/api_error.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace garage::k8s {
namespace {

TEST(api_error, status_body_gives_reason_and_message) {
  auto e = error_from_response(404, R"({"kind":"Status","apiVersion":"v1","status":"Failure",
      "message":"garageclusters.objectstore.garage-cpp.dev \"x\" not found","reason":"NotFound",
      "details":{"name":"x"},"code":404})");
  EXPECT_EQ(e.code, 404);
  EXPECT_EQ(e.reason, "NotFound");
  EXPECT_EQ(e.message, R"(garageclusters.objectstore.garage-cpp.dev "x" not found)");
  EXPECT_TRUE(e.is_not_found());
  EXPECT_FALSE(e.is_conflict());
  EXPECT_EQ(e.to_string(),
            R"(404 NotFound: garageclusters.objectstore.garage-cpp.dev "x" not found)");
}

TEST(api_error, conflict_and_already_exists_are_told_apart) {
  auto conflict = error_from_response(
      409,
      R"({"kind":"Status","reason":"Conflict","message":"the object has been modified","code":409})");
  EXPECT_TRUE(conflict.is_conflict());
  EXPECT_FALSE(conflict.is_already_exists());
  auto exists =
      error_from_response(409, R"({"kind":"Status","reason":"AlreadyExists","code":409})");
  EXPECT_TRUE(exists.is_already_exists());
  EXPECT_FALSE(exists.is_conflict());
}

TEST(api_error, gone_by_status_or_reason) {
  EXPECT_TRUE(error_from_response(410, "").is_gone());
  auto expired = error_from_status_object(nlohmann::json::parse(
      R"j({"kind":"Status","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410})j"));
  EXPECT_EQ(expired.code, 410);
  EXPECT_TRUE(expired.is_gone());
  EXPECT_EQ(expired.message, "too old resource version: 1 (5)");
}

TEST(api_error, body_without_status) {
  auto e = error_from_response(503, "<html>upstream down</html>");
  EXPECT_EQ(e.code, 503);
  EXPECT_EQ(e.reason, "ServiceUnavailable");
  EXPECT_EQ(e.message, "<html>upstream down</html>");
  EXPECT_EQ(error_from_response(401, "").reason, "Unauthorized");
  EXPECT_TRUE(error_from_response(401, "").is_unauthorized());
  auto odd = error_from_status_object(nlohmann::json::parse(R"({"kind":"Pod"})"));
  EXPECT_EQ(odd.reason, "BadResponse");
}

TEST(api_error, transport_failures_have_no_code) {
  api_error e{0, std::string(transport_reason::unreachable), "connection refused"};
  EXPECT_TRUE(e.is_transport());
  EXPECT_EQ(e.to_string(), "Unreachable: connection refused");
}

}  // namespace
}  // namespace garage::k8s
