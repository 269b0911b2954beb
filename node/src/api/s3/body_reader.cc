#include "api/s3/body_reader.h"

#include "util/encoding.h"

namespace garage::s3 {

namespace {
constexpr size_t kReadChunk = 256 * 1024;

bool is_streaming(payload_mode m) {
  return m == payload_mode::streaming_signed || m == payload_mode::streaming_unsigned_trailer ||
         m == payload_mode::streaming_signed_trailer;
}
}  // namespace

s3_result<std::unique_ptr<body_reader>> body_reader::make(request_context& ctx,
                                                          bool object_checksum) {
  std::unique_ptr<body_reader> r(new body_reader(ctx));
  const auto& head = ctx.ex.head();
  if (auto md5 = head.headers.get("content-md5")) {
    auto raw = base64_decode(*md5);
    if (!raw || raw->size() != 16) {
      return make_error(s3_errc::invalid_digest, {}, ctx.resource());
    }
    r->content_md5_ = std::move(*raw);
  }
  if (is_streaming(ctx.auth.payload)) {
    r->chunked_.emplace(ctx.auth.payload, ctx.auth.streaming);
    r->declared_size_ = ctx.auth.decoded_content_length;
  } else {
    r->declared_size_ = head.content_length;
    if (!head.content_length && !head.chunked) r->declared_size_ = 0;
  }
  if (ctx.auth.payload == payload_mode::signed_sha256) r->sha256_.emplace("SHA256");
  if (object_checksum || !ctx.auth.trailer.empty()) {
    http::header_map none;
    auto req = parse_checksum_request(object_checksum ? head.headers : none, ctx.auth.trailer);
    if (!req) return std::move(req).error();
    r->checksum_request_ = std::move(*req);
    if (r->checksum_request_.in_trailer && !r->chunked_) {
      return make_error(s3_errc::invalid_request,
                        "x-amz-trailer needs a STREAMING-*-TRAILER x-amz-content-sha256",
                        ctx.resource());
    }
    if (r->checksum_request_.algorithm) r->checksum_.emplace(*r->checksum_request_.algorithm);
  }
  return r;
}

s3_result<void> body_reader::require_checksum(checksum_algorithm a) {
  if (checksum_ && checksum_->algorithm() != a) {
    return make_error(s3_errc::invalid_request,
                      "Checksum Type mismatch occurred, expected checksum Type: " +
                          http::to_lower(checksum_name(a)) + ", actual checksum Type: " +
                          http::to_lower(checksum_name(checksum_->algorithm())),
                      ctx_.resource());
  }
  if (!checksum_) checksum_.emplace(a);
  return {};
}

void body_reader::consume(std::string_view data) {
  md5_hasher_.update(data);
  if (sha256_) sha256_->update(data);
  if (checksum_) checksum_->update(data);
  decoded_ += data.size();
}

s3_task<size_t> body_reader::read(std::string& out, size_t max) {
  while (pending_.empty() && !eof_) {
    raw_.resize(kReadChunk);
    auto n = co_await ctx_.ex.read_body(std::span<char>(raw_.data(), raw_.size()));
    if (!n) co_return make_error(s3_errc::incomplete_body, n.error().message, ctx_.resource());
    if (*n == 0) {
      eof_ = true;
      if (chunked_) {
        if (auto r = chunked_->finish(); !r) co_return r.error();
      }
      break;
    }
    std::string_view got(raw_.data(), *n);
    if (chunked_) {
      auto decoded = chunked_->feed(got);
      if (!decoded) co_return decoded.error();
      pending_ = std::move(*decoded);
    } else {
      // Hand out the read buffer itself: no copy for the common case.
      raw_.resize(*n);
      pending_.swap(raw_);
    }
  }
  if (pending_.empty()) co_return size_t{0};
  size_t take = std::min(max, pending_.size());
  std::string_view piece(pending_.data(), take);
  consume(piece);
  if (out.empty() && take == pending_.size()) {
    out.swap(pending_);
  } else {
    out.append(piece);
  }
  pending_.erase(0, take);
  co_return take;
}

s3_task<size_t> body_reader::fill(std::string& out, size_t want) {
  size_t total = 0;
  while (out.size() < want) {
    auto n = co_await read(out, want - out.size());
    if (!n) co_return n.error();
    if (*n == 0) break;
    total += *n;
  }
  co_return total;
}

s3_task<std::string> body_reader::read_all(size_t limit) {
  std::string out;
  auto n = co_await fill(out, limit + 1);
  if (!n) co_return std::move(n).error();
  if (out.size() > limit) {
    co_return make_error(s3_errc::entity_too_large, "The request body is too large",
                         ctx_.resource());
  }
  if (auto f = finish(); !f) co_return std::move(f).error();
  co_return out;
}

s3_result<void> body_reader::finish() {
  md5_ = md5_hasher_.finish();
  if (declared_size_ && *declared_size_ != decoded_) {
    return make_error(s3_errc::incomplete_body,
                      "The request body is shorter or longer than its declared length",
                      ctx_.resource());
  }
  if (sha256_) {
    auto got = hex_encode(sha256_->finish());
    if (got != ctx_.auth.expected_sha256) {
      return make_error(s3_errc::x_amz_content_sha256_mismatch, {}, ctx_.resource());
    }
  }
  if (content_md5_ && *content_md5_ != md5_) {
    return make_error(s3_errc::bad_digest, {}, ctx_.resource());
  }
  if (checksum_) {
    auto a = checksum_->algorithm();
    std::string got = checksum_->finish();
    // The trailer was decoded (and its signature checked) by chunked_.
    static const std::vector<std::pair<std::string, std::string>> no_trailers;
    auto checked = verify_body_checksum(checksum_request_, a, got,
                                        chunked_ ? chunked_->trailers() : no_trailers);
    if (!checked) {
      s3_error e = std::move(checked).error();
      e.resource = ctx_.resource();
      return e;
    }
    checksum_value_.emplace(a, std::move(got));
  }
  return s3_result<void>();
}

}  // namespace garage::s3
