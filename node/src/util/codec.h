// Binary encoding of persisted and wire values.
//
// Every persisted type writes a version byte first (see STYLE.md, habit 9) and
// its decoder accepts every version it knows. Fixed-width integers are big
// endian so that encoded keys sort like the numbers. The decoder never throws
// and never reads past its input: a short or malformed input makes it `failed`
// and every later read returns zero values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace garage {

class encoder {
 public:
  void u8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void u32be(uint32_t v);
  void u64be(uint64_t v);
  void varint(uint64_t v);
  void bytes(std::string_view s);  // varint length + bytes
  void raw(std::string_view s) { buf_.append(s); }

  const std::string& view() const { return buf_; }
  std::string take() { return std::move(buf_); }

 private:
  std::string buf_;
};

class decoder {
 public:
  explicit decoder(std::string_view in) : in_(in) {}

  uint8_t u8();
  bool boolean() { return u8() != 0; }
  uint32_t u32be();
  uint64_t u64be();
  uint64_t varint();
  std::string bytes();
  std::string_view raw(size_t n);

  bool failed() const { return failed_; }
  bool at_end() const { return pos_ == in_.size(); }
  // True when everything was read without error and nothing is left.
  bool complete() const { return !failed_ && at_end(); }
  size_t remaining() const { return in_.size() - pos_; }
  void fail() { failed_ = true; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace garage
