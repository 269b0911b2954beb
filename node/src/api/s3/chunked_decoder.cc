#include "api/s3/chunked_decoder.h"

#include <algorithm>

#include "util/encoding.h"

namespace garage::s3 {
namespace {

// hex(sha256(""))
constexpr std::string_view k_empty_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// Longest size or trailer line accepted: a size, a signature and some slack.
constexpr size_t k_max_line = 4096;
constexpr size_t k_max_trailers = 32;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

s3_error malformed(std::string what) {
  return make_error(s3_errc::invalid_request, "Malformed aws-chunked body: " + std::move(what));
}

}  // namespace

chunked_decoder::chunked_decoder(payload_mode mode, streaming_context ctx, uint64_t max_chunk_size)
    : mode_(mode),
      ctx_(std::move(ctx)),
      max_chunk_size_(max_chunk_size),
      signed_(mode == payload_mode::streaming_signed ||
              mode == payload_mode::streaming_signed_trailer),
      chunk_hash_("SHA256"),
      previous_sig_(ctx_.seed_signature) {}

s3_error chunked_decoder::fail(s3_error e) {
  state_ = state::failed;
  failure_ = e;
  return e;
}

s3_result<std::string> chunked_decoder::feed(std::string_view input) {
  if (state_ == state::failed) return *failure_;
  out_.clear();
  while (!input.empty()) {
    switch (state_) {
      case state::size_line:
      case state::trailer_line:
      case state::data_crlf: {
        size_t nl = input.find('\n');
        size_t take = nl == std::string_view::npos ? input.size() : nl + 1;
        if (line_.size() + take > k_max_line) return fail(malformed("line too long"));
        line_.append(input.substr(0, take));
        input.remove_prefix(take);
        if (nl == std::string_view::npos) break;
        if (line_.size() < 2 || line_[line_.size() - 2] != '\r')
          return fail(malformed("line not ended by CRLF"));
        std::string line = std::move(line_);
        line_.clear();
        line.resize(line.size() - 2);
        s3_result<void> r;
        if (state_ == state::size_line) {
          r = on_size_line(line);
        } else if (state_ == state::trailer_line) {
          r = on_trailer_line(line);
        } else if (!line.empty()) {
          r = malformed("chunk data longer than its size");
        } else {
          state_ = last_chunk_ ? state::done : state::size_line;
        }
        if (!r) return fail(std::move(r).error());
        break;
      }
      case state::data: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, input.size()));
        std::string_view part = input.substr(0, n);
        input.remove_prefix(n);
        remaining_ -= n;
        if (signed_) {
          chunk_hash_.update(part);
          chunk_.append(part);
        } else {
          out_.append(part);
        }
        if (remaining_ == 0) {
          auto r = on_chunk_complete();
          if (!r) return fail(std::move(r).error());
          state_ = state::data_crlf;
        }
        break;
      }
      case state::done:
        return fail(malformed("data after the final chunk"));
      case state::failed:
        return *failure_;
    }
  }
  decoded_size_ += out_.size();
  return std::move(out_);
}

s3_result<void> chunked_decoder::on_size_line(std::string_view line) {
  size_t semi = line.find(';');
  std::string_view size_s = line.substr(0, semi);
  std::string_view ext =
      semi == std::string_view::npos ? std::string_view() : line.substr(semi + 1);
  if (size_s.empty() || size_s.size() > 16) return malformed("bad chunk size");
  uint64_t size = 0;
  for (char c : size_s) {
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (d < 0) return malformed("bad chunk size");
    size = size * 16 + static_cast<uint64_t>(d);
  }
  if (size > max_chunk_size_)
    return make_error(s3_errc::entity_too_large, "aws-chunked chunk larger than the limit");
  if (signed_) {
    constexpr std::string_view k_prefix = "chunk-signature=";
    if (!ext.starts_with(k_prefix)) return malformed("missing chunk-signature");
    expected_sig_ = std::string(ext.substr(k_prefix.size()));
  }
  remaining_ = size;
  if (size > 0) {
    state_ = state::data;
    return {};
  }
  last_chunk_ = true;
  auto r = on_chunk_complete();
  if (!r) return r;
  state_ = mode_ == payload_mode::streaming_signed ? state::data_crlf : state::trailer_line;
  return {};
}

s3_result<void> chunked_decoder::on_chunk_complete() {
  if (!signed_) return {};
  std::string hash = hex_encode(chunk_hash_.finish());
  std::string sig = chunk_signature(ctx_, previous_sig_, hash);
  if (!constant_time_equals(sig, expected_sig_))
    return make_error(s3_errc::signature_does_not_match,
                      "The chunk signature does not match the chunk data");
  previous_sig_ = std::move(sig);
  if (out_.empty()) {
    out_.swap(chunk_);
  } else {
    out_.append(chunk_);
  }
  chunk_.clear();
  return {};
}

s3_result<void> chunked_decoder::on_trailer_line(std::string_view line) {
  if (line.empty()) return end_of_trailer();
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return malformed("bad trailer line");
  std::string name = http::to_lower(trim(line.substr(0, colon)));
  std::string value(trim(line.substr(colon + 1)));
  if (name.empty()) return malformed("bad trailer line");
  if (name == "x-amz-trailer-signature") {
    if (!signed_ || !trailer_signature_.empty()) return malformed("unexpected trailer signature");
    trailer_signature_ = std::move(value);
    return {};
  }
  if (!trailer_signature_.empty()) return malformed("trailer after the trailer signature");
  if (trailers_.size() >= k_max_trailers) return malformed("too many trailers");
  trailers_.emplace_back(std::move(name), std::move(value));
  return {};
}

s3_result<void> chunked_decoder::end_of_trailer() {
  if (signed_) {
    if (trailer_signature_.empty()) {
      if (!trailers_.empty()) return malformed("missing x-amz-trailer-signature");
    } else {
      std::string canonical;
      for (auto& [n, v] : trailers_) canonical += n + ":" + v + "\n";
      std::string sig = trailer_signature(ctx_, previous_sig_, canonical);
      if (!constant_time_equals(sig, trailer_signature_))
        return make_error(s3_errc::signature_does_not_match,
                          "The trailer signature does not match");
    }
  }
  state_ = state::done;
  return {};
}

s3_result<void> chunked_decoder::finish() {
  if (state_ == state::failed) return *failure_;
  if (state_ == state::trailer_line && line_.empty() &&
      (!trailers_.empty() || !trailer_signature_.empty())) {
    auto r = end_of_trailer();
    if (!r) return fail(std::move(r).error());
  }
  if (state_ != state::done) return make_error(s3_errc::incomplete_body);
  return {};
}

std::string chunk_signature(const streaming_context& ctx, std::string_view previous_signature,
                            std::string_view chunk_sha256_hex) {
  std::string sts;
  sts.reserve(64 + ctx.amz_date.size() + ctx.scope.size() + 3 * 64 + 8);
  sts.append("AWS4-HMAC-SHA256-PAYLOAD\n");
  sts.append(ctx.amz_date).push_back('\n');
  sts.append(ctx.scope).push_back('\n');
  sts.append(previous_signature).push_back('\n');
  sts.append(k_empty_sha256).push_back('\n');
  sts.append(chunk_sha256_hex);
  return sign_hex(ctx.signing_key, sts);
}

std::string trailer_signature(const streaming_context& ctx, std::string_view previous_signature,
                              std::string_view canonical_trailer) {
  std::string sts;
  sts.append("AWS4-HMAC-SHA256-TRAILER\n");
  sts.append(ctx.amz_date).push_back('\n');
  sts.append(ctx.scope).push_back('\n');
  sts.append(previous_signature).push_back('\n');
  sts.append(hex_encode(sha256(canonical_trailer)));
  return sign_hex(ctx.signing_key, sts);
}

}  // namespace garage::s3
