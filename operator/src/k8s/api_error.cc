#include "k8s/api_error.h"

#include <nlohmann/json.hpp>

namespace garage::k8s {

namespace {

std::string status_text(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 406:
      return "NotAcceptable";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "RequestEntityTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "Unknown";
  }
}

// Fills reason/message from a Status object; false if json is not one.
bool from_status(const nlohmann::json& j, api_error& e) {
  if (!j.is_object() || j.value("kind", "") != "Status") return false;
  if (j.contains("code") && j["code"].is_number_integer()) e.code = j["code"].get<int>();
  if (j.contains("reason") && j["reason"].is_string()) e.reason = j["reason"].get<std::string>();
  if (j.contains("message") && j["message"].is_string())
    e.message = j["message"].get<std::string>();
  return true;
}

}  // namespace

std::string api_error::to_string() const {
  std::string out = code ? std::to_string(code) + " " : std::string();
  out += reason.empty() ? status_text(code) : reason;
  if (!message.empty()) out += ": " + message;
  return out;
}

api_error error_from_response(int http_status, std::string_view body) {
  api_error e;
  e.code = http_status;
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (from_status(j, e)) {
    e.code = http_status;  // the HTTP status wins over Status.code
  } else {
    constexpr size_t max_excerpt = 200;
    e.message = std::string(body.substr(0, max_excerpt));
  }
  if (e.reason.empty()) e.reason = status_text(http_status);
  return e;
}

api_error error_from_status_object(const nlohmann::json& status) {
  api_error e;
  if (!from_status(status, e)) {
    e.reason = std::string(transport_reason::bad_response);
    e.message = "watch ERROR event without a Status object";
    return e;
  }
  if (e.reason.empty()) e.reason = status_text(e.code);
  return e;
}

}  // namespace garage::k8s
