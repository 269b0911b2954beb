// Watch events: the newline-delimited JSON a watch response streams
// ({"type": "ADDED", "object": {...}} per line), split and parsed.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "k8s/api_error.h"

namespace garage::k8s {

enum class watch_event_type { added, modified, deleted, bookmark, error };

const char* watch_event_type_name(watch_event_type t);

struct watch_event {
  watch_event_type type;
  nlohmann::json object;  // the object; a Status for error; only metadata for a bookmark
};

// One line of a watch stream; a BadResponse api_error if it is not an event.
api_result<watch_event> parse_watch_event(std::string_view line);

// Reassembles lines from the pieces a stream arrives in. Not thread-safe.
class line_splitter {
 public:
  // Calls on_line(std::string_view) for each complete non-empty line in the
  // data seen so far (without its "\n" or "\r\n"); stops early, returning
  // false, when on_line returns false.
  template <class F>
  bool feed(std::string_view data, F&& on_line) {
    partial_.append(data);
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(partial_.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty() && !on_line(line)) {
        partial_.erase(0, nl + 1);
        return false;
      }
    }
    partial_.erase(0, start);
    return true;
  }
  // What is left after the last newline (a stream should end on one).
  const std::string& rest() const { return partial_; }

 private:
  std::string partial_;
};

}  // namespace garage::k8s
