#include "model/counter.h"

#include <algorithm>

#include "util/codec.h"

namespace garage::model {

namespace {
constexpr uint8_t kCounterFormat = 1;

void put_counts(encoder& e, const bucket_counts& c) {
  e.u64be(static_cast<uint64_t>(c.objects));
  e.u64be(static_cast<uint64_t>(c.bytes));
  e.u64be(static_cast<uint64_t>(c.uploads));
}

bucket_counts get_counts(decoder& d) {
  bucket_counts c;
  c.objects = static_cast<int64_t>(d.u64be());
  c.bytes = static_cast<int64_t>(d.u64be());
  c.uploads = static_cast<int64_t>(d.u64be());
  return c;
}
}  // namespace

void bucket_counter::merge(const bucket_counter& other) {
  for (const auto& [node, slot] : other.slots) {
    auto [it, inserted] = slots.emplace(node, slot);
    if (!inserted) it->second.merge(slot);
  }
}

bucket_counts bucket_counter::total() const {
  bucket_counts t;
  for (const auto& [node, slot] : slots) t += slot.value;
  return t;
}

bucket_counts bucket_counter::largest_slot() const {
  bucket_counts t;
  for (const auto& [node, slot] : slots) {
    t.objects = std::max(t.objects, slot.value.objects);
    t.bytes = std::max(t.bytes, slot.value.bytes);
    t.uploads = std::max(t.uploads, slot.value.uploads);
  }
  return t;
}

std::string bucket_counter::encode() const {
  encoder e;
  e.u8(kCounterFormat);
  e.bytes(bucket_id);
  e.varint(slots.size());
  for (const auto& [node, slot] : slots) {
    e.bytes(node);
    crdt::encode(e, slot, put_counts);
  }
  return e.take();
}

result<bucket_counter> bucket_counter::decode(std::string_view bytes) {
  decoder d(bytes);
  if (d.u8() != kCounterFormat) return error(errc::corrupted, "counter entry: unknown format");
  bucket_counter c;
  c.bucket_id = d.bytes();
  uint64_t n = d.varint();
  if (n > d.remaining()) return error(errc::corrupted, "counter entry: bad slot count");
  for (uint64_t i = 0; i < n && !d.failed(); ++i) {
    auto node = d.bytes();
    c.slots[node] = crdt::decode_lww(d, get_counts);
  }
  if (!d.complete()) return error(errc::corrupted, "counter entry: truncated or malformed");
  return c;
}

}  // namespace garage::model
