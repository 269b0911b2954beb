#include "api/s3/form_data.h"

#include "api/common/http.h"

namespace garage::s3 {

namespace {

s3_error malformed(std::string what) {
  return make_error(s3_errc::malformed_post_request, std::move(what));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The parameters of a header value "type; a=b; c=\"d\"", called with (name
// lower-cased, value unquoted). Returns the value before the first ';'.
template <class F>
std::string_view header_params(std::string_view v, F on_param) {
  size_t semi = v.find(';');
  std::string_view first = trim(v.substr(0, semi));
  while (semi != std::string_view::npos) {
    v.remove_prefix(semi + 1);
    size_t eq = v.find('=');
    if (eq == std::string_view::npos) break;
    std::string name = http::to_lower(trim(v.substr(0, eq)));
    v.remove_prefix(eq + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    std::string value;
    if (!v.empty() && v.front() == '"') {
      size_t i = 1;
      for (; i < v.size() && v[i] != '"'; ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) ++i;
        value += v[i];
      }
      v.remove_prefix(std::min(i + 1, v.size()));
      semi = v.find(';');
    } else {
      semi = v.find(';');
      value = std::string(trim(v.substr(0, semi)));
    }
    on_param(name, std::move(value));
  }
  return first;
}

}  // namespace

std::optional<std::string> form_boundary(std::string_view content_type) {
  std::optional<std::string> boundary;
  auto type = header_params(content_type, [&](const std::string& n, std::string v) {
    if (n == "boundary" && !boundary) boundary = std::move(v);
  });
  if (http::to_lower(type) != "multipart/form-data") return std::nullopt;
  // RFC 2046: 1 to 70 characters.
  if (!boundary || boundary->empty() || boundary->size() > 70) return std::nullopt;
  return boundary;
}

form_data_parser::form_data_parser(std::string boundary) : delimiter_("\r\n--" + boundary) {
  // The first delimiter has no CRLF before it: pretend there was one.
  buf_ = "\r\n";
}

void form_data_parser::feed(std::string_view bytes) {
  if (pos_ > 0 && pos_ * 2 >= buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

void form_data_parser::end_of_input() { eof_ = true; }

s3_result<form_data_parser::event> form_data_parser::parse_headers(size_t end) {
  event e;
  e.kind = event::part_begin;
  bool disposition = false;
  std::string_view block(buf_.data() + pos_, end - pos_);
  while (!block.empty()) {
    size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return malformed("a part header has no ':'");
    std::string name = http::to_lower(trim(line.substr(0, colon)));
    std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-disposition") {
      std::optional<std::string> field, filename;
      auto type = header_params(value, [&](const std::string& n, std::string v) {
        if (n == "name") field = std::move(v);
        if (n == "filename") filename = std::move(v);
      });
      if (http::to_lower(type) != "form-data" || !field)
        return malformed("a part is not form-data with a name");
      disposition = true;
      e.part.name = std::move(*field);
      e.part.filename = std::move(filename);
    } else if (name == "content-type") {
      e.part.content_type = std::string(value);
    }
  }
  if (!disposition) return malformed("a part has no Content-Disposition");
  return e;
}

s3_result<form_data_parser::event> form_data_parser::next() {
  for (;;) {
    std::string_view avail(buf_.data() + pos_, buf_.size() - pos_);
    switch (state_) {
      case state::done: {
        event e;
        e.kind = event::done;
        return e;
      }
      case state::preamble:
      case state::body: {
        size_t at = avail.find(delimiter_);
        if (at == std::string_view::npos) {
          // Hand out all but what could be the start of a delimiter.
          size_t keep = std::min(avail.size(), delimiter_.size() - 1);
          size_t give = avail.size() - keep;
          if (eof_) return malformed("the body ends before the closing boundary");
          if (state_ == state::preamble || give == 0) {
            if (state_ == state::preamble) pos_ += give;
            event e;
            e.kind = event::need_more;
            return e;
          }
          event e;
          e.kind = event::part_data;
          e.data = avail.substr(0, give);
          pos_ += give;
          return e;
        }
        if (at > 0 && state_ == state::body) {
          event e;
          e.kind = event::part_data;
          e.data = avail.substr(0, at);
          pos_ += at;
          return e;
        }
        // A delimiter at pos_: then "--" (the end) or transport padding and CRLF.
        std::string_view after = avail.substr(at + delimiter_.size());
        if (after.size() < 2) {
          if (eof_) return malformed("the body ends inside a boundary");
          event e;
          e.kind = event::need_more;
          return e;
        }
        bool was_body = state_ == state::body;
        if (after.starts_with("--")) {
          state_ = state::done;
          buf_.clear();
          pos_ = 0;
          if (was_body) {
            event e;
            e.kind = event::part_end;
            return e;
          }
          continue;
        }
        size_t i = 0;
        while (i < after.size() && (after[i] == ' ' || after[i] == '\t')) ++i;
        if (i + 2 > after.size()) {
          if (eof_ || i > 256) return malformed("the body ends inside a boundary");
          event e;
          e.kind = event::need_more;
          return e;
        }
        if (after.substr(i, 2) != "\r\n") return malformed("a boundary is not followed by CRLF");
        pos_ += at + delimiter_.size() + i + 2;
        state_ = state::headers;
        if (was_body) {
          event e;
          e.kind = event::part_end;
          return e;
        }
        continue;
      }
      case state::headers: {
        size_t end = avail.find("\r\n\r\n");
        // Headers may be empty: the blank line comes at once.
        if (avail.starts_with("\r\n")) end = 0;
        if (end == std::string_view::npos) {
          if (avail.size() > kMaxPartHeaders)
            return malformed("the headers of a part are too long");
          if (eof_) return malformed("the body ends inside the headers of a part");
          event e;
          e.kind = event::need_more;
          return e;
        }
        if (end > kMaxPartHeaders) return malformed("the headers of a part are too long");
        auto e = parse_headers(pos_ + end);
        if (!e) return e;
        pos_ += end + (end == 0 ? 2 : 4);
        // The data starts here; an empty part is "\r\n\r\n" then "\r\n--b".
        state_ = state::body;
        return e;
      }
    }
  }
}

}  // namespace garage::s3
