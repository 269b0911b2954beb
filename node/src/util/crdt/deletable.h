// deletable<T>: a CRDT value T that can be deleted for good. Deleted absorbs
// everything (a deleted value merged with anything stays deleted); two present
// values merge as T does. The default value is present(T{}), the bottom of the
// lattice when T{} is the bottom of T's.
#pragma once

#include <optional>
#include <utility>

#include "util/crdt/crdt.h"

namespace garage::crdt {

template <mergeable T>
class deletable {
 public:
  deletable() requires std::default_initializable<T> : value_(T{}) {}
  explicit deletable(T value) : value_(std::move(value)) {}
  static deletable deleted() { return deletable(deleted_tag{}); }

  bool is_deleted() const { return !value_.has_value(); }
  // The present value, or null when deleted.
  const T* get() const { return value_ ? &*value_ : nullptr; }
  T* get() { return value_ ? &*value_ : nullptr; }
  // Deletes the value; nothing can bring it back.
  void remove() { value_.reset(); }

  void merge(const deletable& other) {
    if (!value_) return;
    if (!other.value_) {
      value_.reset();
      return;
    }
    value_->merge(*other.value_);
  }
  bool operator==(const deletable&) const = default;

 private:
  struct deleted_tag {};
  explicit deletable(deleted_tag) {}
  std::optional<T> value_;
};

// version byte, present flag, then the value if present.
template <class T, class Enc>
void encode(encoder& e, const deletable<T>& v, Enc&& enc_value) {
  e.u8(codec_version);
  e.boolean(!v.is_deleted());
  if (const T* p = v.get()) enc_value(e, *p);
}

template <class Dec>
deletable<decoded_t<Dec>> decode_deletable(decoder& d, Dec&& dec_value) {
  using T = decoded_t<Dec>;
  if (!read_version(d)) return deletable<T>::deleted();
  if (!decode_bool(d)) return deletable<T>::deleted();
  return deletable<T>(dec_value(d));
}

}  // namespace garage::crdt
