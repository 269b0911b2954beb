#include "api/common/exchange.h"

#include <algorithm>

namespace garage::http {

task<result<std::string>> exchange::read_body_all(size_t limit) {
  const auto& h = head();
  if (h.content_length && *h.content_length > limit)
    co_return error(errc::too_large, "request body of " + std::to_string(*h.content_length) +
                                         " bytes exceeds the limit of " + std::to_string(limit));
  std::string body;
  size_t want = h.content_length ? static_cast<size_t>(*h.content_length) : 0;
  // Without a length (chunked), grow by reads of 64 KiB, up to limit + 1 to
  // detect an oversize body.
  size_t step = 64 * 1024;
  body.resize(h.content_length ? want : std::min(step, limit + 1));
  size_t filled = 0;
  for (;;) {
    if (filled == body.size()) {
      if (h.content_length) {
        // Exactly the declared length: one more read must report the end.
        char probe;
        auto r = co_await read_body(std::span<char>(&probe, 1));
        if (!r) co_return std::move(r).error();
        if (*r != 0) co_return error(errc::invalid_argument, "request body longer than declared");
        break;
      }
      if (body.size() > limit)
        co_return error(errc::too_large,
                        "request body exceeds the limit of " + std::to_string(limit) + " bytes");
      body.resize(std::min(body.size() + std::max(step, body.size()), limit + 1));
    }
    auto r = co_await read_body(std::span<char>(body.data() + filled, body.size() - filled));
    if (!r) co_return std::move(r).error();
    if (*r == 0) break;
    filled += *r;
  }
  if (h.content_length && filled != want)
    co_return error(errc::io_error, "request body shorter than its Content-Length");
  body.resize(filled);
  co_return std::move(body);
}

}  // namespace garage::http
