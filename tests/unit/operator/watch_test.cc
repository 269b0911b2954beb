#include "k8s/watch.h"

#include <gtest/gtest.h>

#include <vector>

namespace garage::k8s {
namespace {

TEST(line_splitter, lines_across_pieces) {
  line_splitter s;
  std::vector<std::string> lines;
  auto add = [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  };
  EXPECT_TRUE(s.feed("{\"a\"", add));
  EXPECT_TRUE(lines.empty());
  EXPECT_TRUE(s.feed(":1}\n{\"b\":2}\r\n\n{\"c\"", add));
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(s.rest(), "{\"c\"");
  EXPECT_TRUE(s.feed(":3}\n", add));
  EXPECT_EQ(lines.back(), "{\"c\":3}");
  EXPECT_TRUE(s.rest().empty());
}

TEST(line_splitter, stops_when_told) {
  line_splitter s;
  int n = 0;
  EXPECT_FALSE(s.feed("1\n2\n3\n", [&](std::string_view) { return ++n < 2; }));
  EXPECT_EQ(n, 2);
  EXPECT_EQ(s.rest(), "3\n");
}

TEST(watch_event, every_type) {
  for (auto [text, type] : std::vector<std::pair<std::string, watch_event_type>>{
           {"ADDED", watch_event_type::added},
           {"MODIFIED", watch_event_type::modified},
           {"DELETED", watch_event_type::deleted},
           {"BOOKMARK", watch_event_type::bookmark},
           {"ERROR", watch_event_type::error}}) {
    auto ev = parse_watch_event(R"({"type":")" + text +
                                R"(","object":{"metadata":{"resourceVersion":"7"}}})");
    ASSERT_TRUE(ev) << text;
    EXPECT_EQ(ev->type, type);
    EXPECT_EQ(watch_event_type_name(type), text);
    EXPECT_EQ(ev->object["metadata"]["resourceVersion"], "7");
  }
}

TEST(watch_event, malformed_lines) {
  for (const char* line : {"not json", "[1]", R"({"object":{}})", R"({"type":"ADDED"})",
                           R"({"type":"ADDED","object":3})", R"({"type":"RENAMED","object":{}})"}) {
    auto ev = parse_watch_event(line);
    ASSERT_FALSE(ev) << line;
    EXPECT_EQ(ev.error().reason, "BadResponse") << line;
  }
}

}  // namespace
}  // namespace garage::k8s
