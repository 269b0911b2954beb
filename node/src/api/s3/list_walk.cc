#include "api/s3/list_walk.h"

namespace garage::s3 {

std::string prefix_successor(std::string p) {
  while (!p.empty()) {
    auto c = static_cast<unsigned char>(p.back());
    if (c < 0xFF) {
      p.back() = static_cast<char>(c + 1);
      return p;
    }
    p.pop_back();
  }
  return p;
}

result<list_walk_result> list_walk(const page_source& source, const std::string& prefix,
                                   const std::optional<std::string>& delimiter,
                                   const std::string& after, size_t max_keys) {
  list_walk_result out;
  if (max_keys == 0) return out;
  const bool has_delim = delimiter && !delimiter->empty();

  // Where to start: at the prefix, or after the marker if it is further on.
  std::string start = prefix;
  bool exclusive = false;
  if (!after.empty() && after >= prefix) {
    start = after;
    exclusive = true;
    // A marker that is a common prefix resumes after every key under it.
    if (has_delim && after.size() > prefix.size() && after.starts_with(prefix) &&
        after.ends_with(*delimiter)) {
      start = prefix_successor(after);
      exclusive = false;
      if (start.empty()) return out;
    }
  }

  size_t count = 0;
  while (true) {
    size_t want = std::min<size_t>(max_keys - count + 1, 1000);
    GARAGE_ASSIGN_OR_RETURN(auto page, source(start, exclusive, want));
    if (page.empty()) return out;
    bool jumped = false;
    for (auto& o : page) {
      if (!o.key.starts_with(prefix)) return out;  // past the prefix: done
      std::optional<std::string> cp;
      if (has_delim) {
        auto pos = o.key.find(*delimiter, prefix.size());
        if (pos != std::string::npos) cp = o.key.substr(0, pos + delimiter->size());
      }
      if (count == max_keys) {
        out.truncated = true;
        return out;
      }
      if (cp) {
        out.common_prefixes.push_back(*cp);
        out.next_marker = *cp;
        ++count;
        start = prefix_successor(*cp);
        exclusive = false;
        if (start.empty()) return out;
        jumped = true;
        break;
      }
      out.next_marker = o.key;
      start = o.key;
      exclusive = true;
      out.objects.push_back(std::move(o));
      ++count;
    }
    if (!jumped && page.size() < want) return out;
  }
}

}  // namespace garage::s3
