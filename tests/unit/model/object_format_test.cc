// Object entries written before SSE-C (format 1) still decode, unencrypted;
// the current format keeps the key MD5.
#include <gtest/gtest.h>

#include "model/object.h"
#include "util/codec.h"

namespace garage::model {
namespace {

TEST(object_format, format_1_decodes_without_encryption) {
  encoder e;
  e.u8(1);
  e.bytes("b");
  e.bytes("k");
  e.varint(1);
  e.bytes("v1");
  e.u64be(42);
  e.u8(static_cast<uint8_t>(version_state::complete));
  e.boolean(false);
  e.u8(static_cast<uint8_t>(version_data::inline_bytes));
  e.varint(3);
  e.bytes("etag");
  e.varint(1);
  e.bytes("content-type");
  e.bytes("text/plain");
  e.bytes("abc");
  auto o = object::decode(e.take());
  ASSERT_TRUE(o.has_value()) << o.error().to_string();
  ASSERT_EQ(o->versions.size(), 1u);
  const auto& v = o->versions[0];
  EXPECT_EQ(v.inline_data, "abc");
  EXPECT_EQ(v.meta.etag, "etag");
  EXPECT_EQ(v.meta.headers.size(), 1u);
  EXPECT_TRUE(v.meta.sse_c_key_md5.empty());
}

TEST(object_format, sse_c_key_md5_round_trips) {
  object o;
  o.bucket_id = "b";
  o.key = "k";
  object_version v;
  v.id = "v";
  v.state = version_state::complete;
  v.data = version_data::blocks;
  v.meta.sse_c_key_md5 = std::string(16, '\x7f');
  o.versions.push_back(v);
  auto round = object::decode(o.encode());
  ASSERT_TRUE(round.has_value());
  EXPECT_EQ(*round, o);
  EXPECT_EQ(round->versions[0].meta.sse_c_key_md5, std::string(16, '\x7f'));
}

}  // namespace
}  // namespace garage::model
