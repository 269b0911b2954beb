#include "k8s/watch.h"

namespace garage::k8s {

const char* watch_event_type_name(watch_event_type t) {
  switch (t) {
    case watch_event_type::added:
      return "ADDED";
    case watch_event_type::modified:
      return "MODIFIED";
    case watch_event_type::deleted:
      return "DELETED";
    case watch_event_type::bookmark:
      return "BOOKMARK";
    case watch_event_type::error:
      return "ERROR";
  }
  return "?";
}

api_result<watch_event> parse_watch_event(std::string_view line) {
  auto bad = [&](const std::string& why) {
    constexpr size_t excerpt = 120;
    return api_error{0, std::string(transport_reason::bad_response),
                     "bad watch event (" + why + "): " + std::string(line.substr(0, excerpt))};
  };
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  auto type = j.find("type");
  auto object = j.find("object");
  if (type == j.end() || !type->is_string()) return bad("no type");
  if (object == j.end() || !object->is_object()) return bad("no object");
  const auto& t = type->get_ref<const std::string&>();
  watch_event ev{watch_event_type::error, std::move(*object)};
  if (t == "ADDED")
    ev.type = watch_event_type::added;
  else if (t == "MODIFIED")
    ev.type = watch_event_type::modified;
  else if (t == "DELETED")
    ev.type = watch_event_type::deleted;
  else if (t == "BOOKMARK")
    ev.type = watch_event_type::bookmark;
  else if (t == "ERROR")
    ev.type = watch_event_type::error;
  else
    return bad("unknown type " + t);
  return ev;
}

}  // namespace garage::k8s
