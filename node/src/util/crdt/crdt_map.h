// crdt_map<K, V>: a sorted map whose values are CRDTs, merged key by key.
// Keys are never removed; removal is modelled by V (e.g. deletable<...>).
#pragma once

#include <map>
#include <utility>

#include "util/crdt/crdt.h"

namespace garage::crdt {

template <std::totally_ordered K, mergeable V>
class crdt_map {
 public:
  using map_type = std::map<K, V>;

  // Merges v into the value at k (inserts it when k is absent).
  void put(const K& k, const V& v) {
    auto it = items_.find(k);
    if (it == items_.end())
      items_.emplace(k, v);
    else
      it->second.merge(v);
  }
  // The value at k, or null.
  const V* get(const K& k) const {
    auto it = items_.find(k);
    return it == items_.end() ? nullptr : &it->second;
  }
  const map_type& items() const { return items_; }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

  void merge(const crdt_map& other) {
    for (const auto& [k, v] : other.items_) put(k, v);
  }
  bool operator==(const crdt_map&) const = default;

 private:
  map_type items_;
};

// version byte, varint count, then (key, value) in key order.
template <class K, class V, class EncK, class EncV>
void encode(encoder& e, const crdt_map<K, V>& m, EncK&& enc_key, EncV&& enc_value) {
  e.u8(codec_version);
  e.varint(m.size());
  for (const auto& [k, v] : m.items()) {
    enc_key(e, k);
    enc_value(e, v);
  }
}

template <class DecK, class DecV>
crdt_map<decoded_t<DecK>, decoded_t<DecV>> decode_crdt_map(decoder& d, DecK&& dec_key,
                                                           DecV&& dec_value) {
  crdt_map<decoded_t<DecK>, decoded_t<DecV>> out;
  if (!read_version(d)) return out;
  uint64_t n = d.varint();
  if (n > d.remaining()) d.fail();  // every entry takes at least one byte
  for (uint64_t i = 0; i < n && !d.failed(); ++i) {
    auto k = dec_key(d);
    auto v = dec_value(d);
    if (!d.failed()) out.put(k, v);
  }
  return out;
}

}  // namespace garage::crdt
