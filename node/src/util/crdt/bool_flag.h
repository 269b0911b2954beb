// bool_flag: a flag that can be set but never cleared; merge is logical or.
#pragma once

#include "util/crdt/crdt.h"

namespace garage::crdt {

class bool_flag {
 public:
  bool_flag() = default;
  explicit bool_flag(bool set) : set_(set) {}

  void set() { set_ = true; }
  bool get() const { return set_; }
  explicit operator bool() const { return set_; }

  void merge(const bool_flag& other) { set_ = set_ || other.set_; }
  bool operator==(const bool_flag&) const = default;

 private:
  bool set_ = false;
};

// One byte, 0 or 1.
inline void encode(encoder& e, const bool_flag& v) { e.boolean(v.get()); }

inline bool_flag decode_bool_flag(decoder& d) { return bool_flag(decode_bool(d)); }

}  // namespace garage::crdt
