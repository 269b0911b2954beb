#include "api/admin/admin_error.h"

#include <nlohmann/json.hpp>

namespace garage::admin {

api_error bad_request(std::string message) { return {400, "InvalidRequest", std::move(message)}; }

api_error no_such_endpoint(std::string_view path) {
  return {404, "NoSuchEndpoint", "no admin API endpoint at " + std::string(path)};
}

api_error not_implemented(std::string message) {
  return {501, "NotImplemented", std::move(message)};
}

api_error internal_error(std::string message) { return {500, "InternalError", std::move(message)}; }

api_error from_model_error(const error& e, subject s) {
  switch (e.code) {
    case errc::not_found:
      return {404,
              s == subject::key      ? "NoSuchAccessKey"
              : s == subject::bucket ? "NoSuchBucket"
                                     : "NotFound",
              e.message};
    case errc::invalid_argument:
      return bad_request(e.message);
    case errc::already_exists:
      return {409,
              s == subject::key      ? "KeyAlreadyExists"
              : s == subject::bucket ? "BucketAlreadyExists"
                                     : "AlreadyExists",
              e.message};
    case errc::conflict:
      return {409, "Conflict", e.message};
    case errc::not_implemented:
      return not_implemented(e.message);
    case errc::unavailable:
    case errc::timeout:
      return {503, "ServiceUnavailable", e.message};
    default:
      return internal_error(e.to_string());
  }
}

std::string error_body(const api_error& e, std::string_view region, std::string_view path) {
  nlohmann::ordered_json j;
  j["code"] = e.code;
  j["message"] = e.message;
  j["region"] = region;
  j["path"] = path;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace garage::admin
