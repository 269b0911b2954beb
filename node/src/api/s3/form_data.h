// An incremental multipart/form-data parser (RFC 7578), for PostObject.
//
//   form_data_parser p(*form_boundary(content_type));
//   p.feed(bytes);  ...  p.end_of_input();
//   for (;;) {
//     auto e = p.next();                 // MalformedPOSTRequest on bad framing
//     switch (e->kind) { case need_more: feed more; case part_begin: e->part ...;
//                        case part_data: e->data ...; case part_end: ...; case done: ... }
//   }
//
// The parser holds only what it has not handed out yet: part data is
// returned in pieces as it arrives (all but the few bytes that might be the
// start of the next delimiter), so a large file part streams through. Part
// headers are bounded (kMaxPartHeaders). Pure, single-threaded, no I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "api/s3/s3_error.h"

namespace garage::s3 {

// The boundary parameter of a "multipart/form-data; boundary=..." content type
// (quoted or not); nullopt when it is not multipart/form-data or has none.
std::optional<std::string> form_boundary(std::string_view content_type);

struct form_part {
  std::string name;                     // Content-Disposition name=
  std::optional<std::string> filename;  // Content-Disposition filename=
  std::string content_type;             // the part's Content-Type, if any
};

class form_data_parser {
 public:
  static constexpr size_t kMaxPartHeaders = 16 * 1024;

  explicit form_data_parser(std::string boundary);

  // Appends input. Not after end_of_input().
  void feed(std::string_view bytes);
  // No more input will come: a body that ends before the closing delimiter
  // is then malformed.
  void end_of_input();

  struct event {
    enum kind_t { need_more, part_begin, part_data, part_end, done } kind = need_more;
    form_part part;         // part_begin
    std::string_view data;  // part_data: valid until the next feed() or next()
  };
  // The next event. need_more: feed() more (or end_of_input()). After done,
  // always done (the epilogue is ignored).
  s3_result<event> next();

 private:
  enum class state { preamble, headers, body, done };
  s3_result<event> parse_headers(size_t end);

  std::string delimiter_;  // "\r\n--" + boundary
  std::string buf_;
  size_t pos_ = 0;  // bytes of buf_ already consumed
  state state_ = state::preamble;
  bool eof_ = false;
};

}  // namespace garage::s3
