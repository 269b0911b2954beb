#include "model/object.h"

#include <algorithm>
#include <tuple>

#include "util/codec.h"

namespace garage::model {

namespace {

// 1: no encryption field; 2: adds meta.sse_c_key_md5 after the headers;
// 3: adds meta.checksum, meta.tags and meta.tags_timestamp after it.
constexpr uint8_t kObjectFormat = 3;

bool version_less(const object_version& a, const object_version& b) {
  return std::tie(a.timestamp, a.id) < std::tie(b.timestamp, b.id);
}

// Merges the state of one version seen twice. The state only moves forward;
// two completions of the same version carry the same data, but pick
// deterministically anyway so that merge stays commutative.
void merge_version(object_version& mine, const object_version& theirs) {
  if (theirs.state > mine.state) {
    mine = theirs;
    return;
  }
  if (theirs.state < mine.state) return;
  // Tags change after completion (PutObjectTagging): they merge on their own,
  // last writer wins, whichever side the rest of the version comes from.
  auto tags = [](const object_version& v) { return std::tie(v.meta.tags_timestamp, v.meta.tags); };
  bool their_tags = tags(mine) < tags(theirs);
  header_list newest_tags = their_tags ? theirs.meta.tags : mine.meta.tags;
  uint64_t newest_tags_ts = their_tags ? theirs.meta.tags_timestamp : mine.meta.tags_timestamp;
  auto key = [](const object_version& v) {
    return std::tie(v.data, v.meta.size, v.meta.etag, v.meta.headers, v.meta.sse_c_key_md5,
                    v.meta.checksum, v.inline_data, v.multipart);
  };
  if (key(mine) < key(theirs)) mine = theirs;
  mine.meta.tags = std::move(newest_tags);
  mine.meta.tags_timestamp = newest_tags_ts;
}

void encode_checksum(encoder& e, const std::optional<object_checksum>& c) {
  if (!c) {
    e.u8(0);
    return;
  }
  e.u8(static_cast<uint8_t>(c->algorithm));
  e.boolean(c->composite);
  e.varint(c->part_count);
  e.bytes(c->value);
}

std::optional<object_checksum> decode_checksum(decoder& d) {
  uint8_t a = d.u8();
  if (a == 0) return std::nullopt;
  if (a > static_cast<uint8_t>(checksum_algorithm::sha256)) d.fail();
  object_checksum c;
  c.algorithm = static_cast<checksum_algorithm>(a);
  c.composite = d.boolean();
  c.part_count = static_cast<uint32_t>(d.varint());
  c.value = d.bytes();
  return c;
}

void encode_headers(encoder& e, const header_list& h) {
  e.varint(h.size());
  for (const auto& [k, v] : h) {
    e.bytes(k);
    e.bytes(v);
  }
}

header_list decode_headers(decoder& d) {
  header_list h;
  uint64_t n = d.varint();
  if (n > d.remaining()) {
    d.fail();
    return h;
  }
  for (uint64_t i = 0; i < n && !d.failed(); ++i) {
    auto k = d.bytes();
    auto v = d.bytes();
    h.emplace_back(std::move(k), std::move(v));
  }
  return h;
}

}  // namespace

void object::merge(const object& other) {
  for (const auto& v : other.versions) {
    auto it = std::find_if(versions.begin(), versions.end(),
                           [&](const object_version& m) { return m.id == v.id; });
    if (it == versions.end()) {
      versions.push_back(v);
    } else {
      merge_version(*it, v);
    }
  }
  std::sort(versions.begin(), versions.end(), version_less);
  // Keep the newest complete version and everything after it.
  auto last = std::find_if(versions.rbegin(), versions.rend(),
                           [](const object_version& v) { return v.is_complete(); });
  if (last != versions.rend()) {
    versions.erase(versions.begin(), std::prev(last.base()));
  }
}

bool object::is_tombstone() const {
  if (versions.empty()) return true;
  return versions.size() == 1 && versions[0].is_complete() &&
         versions[0].data == version_data::delete_marker;
}

const object_version* object::last_complete() const {
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    if (it->is_complete()) return &*it;
  }
  return nullptr;
}

const object_version* object::current() const {
  const auto* v = last_complete();
  return v && v->is_data() ? v : nullptr;
}

const object_version* object::find(std::string_view version_id) const {
  for (const auto& v : versions) {
    if (v.id == version_id) return &v;
  }
  return nullptr;
}

std::string object::encode() const {
  encoder e;
  e.u8(kObjectFormat);
  e.bytes(bucket_id);
  e.bytes(key);
  e.varint(versions.size());
  for (const auto& v : versions) {
    e.bytes(v.id);
    e.u64be(v.timestamp);
    e.u8(static_cast<uint8_t>(v.state));
    e.boolean(v.multipart);
    e.u8(static_cast<uint8_t>(v.data));
    e.varint(v.meta.size);
    e.bytes(v.meta.etag);
    encode_headers(e, v.meta.headers);
    e.bytes(v.meta.sse_c_key_md5);
    encode_checksum(e, v.meta.checksum);
    encode_headers(e, v.meta.tags);
    e.u64be(v.meta.tags_timestamp);
    e.bytes(v.inline_data);
  }
  return e.take();
}

result<object> object::decode(std::string_view bytes) {
  decoder d(bytes);
  uint8_t format = d.u8();
  if (format < 1 || format > kObjectFormat) {
    return error(errc::corrupted, "object entry: unknown format");
  }
  object o;
  o.bucket_id = d.bytes();
  o.key = d.bytes();
  uint64_t n = d.varint();
  if (n > d.remaining()) return error(errc::corrupted, "object entry: bad version count");
  for (uint64_t i = 0; i < n && !d.failed(); ++i) {
    object_version v;
    v.id = d.bytes();
    v.timestamp = d.u64be();
    uint8_t state = d.u8();
    v.multipart = d.boolean();
    uint8_t data = d.u8();
    if (state > 2 || data > 3) d.fail();
    v.state = static_cast<version_state>(state);
    v.data = static_cast<version_data>(data);
    v.meta.size = d.varint();
    v.meta.etag = d.bytes();
    v.meta.headers = decode_headers(d);
    if (format >= 2) v.meta.sse_c_key_md5 = d.bytes();
    if (format >= 3) {
      v.meta.checksum = decode_checksum(d);
      v.meta.tags = decode_headers(d);
      v.meta.tags_timestamp = d.u64be();
    }
    v.inline_data = d.bytes();
    o.versions.push_back(std::move(v));
  }
  if (!d.complete()) return error(errc::corrupted, "object entry: truncated or malformed");
  return o;
}

}  // namespace garage::model
