// lww_map<K, V>: a sorted map in which each key is a last-writer-wins
// register (see lww.h). Keys are never removed; store an optional or a
// tombstone value in V to model removal.
#pragma once

#include <map>
#include <utility>

#include "util/crdt/crdt.h"
#include "util/crdt/lww.h"

namespace garage::crdt {

template <std::totally_ordered K, std::totally_ordered V>
class lww_map {
 public:
  using map_type = std::map<K, lww<V>>;

  // Writes v at k with a timestamp after both the clock and k's current one.
  void put(const K& k, V v) { items_[k].update(std::move(v)); }
  // Merges one (timestamp, value) register into k.
  void merge_entry(const K& k, const lww<V>& e) {
    auto it = items_.find(k);
    if (it == items_.end())
      items_.emplace(k, e);
    else
      it->second.merge(e);
  }
  // The value at k, or null.
  const V* get(const K& k) const {
    auto it = items_.find(k);
    return it == items_.end() ? nullptr : &it->second.value;
  }
  // The register (timestamp and value) at k, or null.
  const lww<V>* entry(const K& k) const {
    auto it = items_.find(k);
    return it == items_.end() ? nullptr : &it->second;
  }
  const map_type& items() const { return items_; }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

  void merge(const lww_map& other) {
    for (const auto& [k, e] : other.items_) merge_entry(k, e);
  }
  bool operator==(const lww_map&) const = default;

 private:
  map_type items_;
};

// version byte, varint count, then (key, u64 timestamp, value) in key order.
template <class K, class V, class EncK, class EncV>
void encode(encoder& e, const lww_map<K, V>& m, EncK&& enc_key, EncV&& enc_value) {
  e.u8(codec_version);
  e.varint(m.size());
  for (const auto& [k, r] : m.items()) {
    enc_key(e, k);
    e.u64be(r.timestamp);
    enc_value(e, r.value);
  }
}

template <class DecK, class DecV>
lww_map<decoded_t<DecK>, decoded_t<DecV>> decode_lww_map(decoder& d, DecK&& dec_key,
                                                         DecV&& dec_value) {
  using V = decoded_t<DecV>;
  lww_map<decoded_t<DecK>, V> out;
  if (!read_version(d)) return out;
  uint64_t n = d.varint();
  if (n > d.remaining()) d.fail();  // every entry takes at least 9 bytes
  for (uint64_t i = 0; i < n && !d.failed(); ++i) {
    auto k = dec_key(d);
    lww<V> r;
    r.timestamp = d.u64be();
    r.value = dec_value(d);
    if (!d.failed()) out.merge_entry(k, r);
  }
  return out;
}

}  // namespace garage::crdt
