// The walk behind ListObjects(V2): keys in order from a start position,
// folding keys that share a prefix up to the delimiter into one common
// prefix, until max_keys entries. Pure logic over a page source, so that it is
// unit-tested without a store.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/object.h"
#include "util/result.h"

namespace garage::s3 {

// Returns objects with key >= start (> start when exclusive), in key order, at
// most limit of them.
using page_source = std::function<result<std::vector<model::object>>(const std::string& start,
                                                                     bool exclusive, size_t limit)>;

struct list_walk_result {
  std::vector<model::object> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  // Where the next page starts: the last key or common prefix returned.
  std::optional<std::string> next_marker;
};

// `after`: resume after this key or common prefix (a marker, start-after or a
// continuation token); empty starts at the prefix.
result<list_walk_result> list_walk(const page_source& source, const std::string& prefix,
                                   const std::optional<std::string>& delimiter,
                                   const std::string& after, size_t max_keys);

// The smallest string greater than every string that starts with p (empty if
// there is none, i.e. p is all 0xFF bytes).
std::string prefix_successor(std::string p);

}  // namespace garage::s3
