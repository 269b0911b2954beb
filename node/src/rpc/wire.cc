#include "rpc/wire.h"

#include "util/codec.h"
#include "util/hash.h"

namespace garage::rpc::wire {
namespace {

constexpr std::string_view hello_magic = "GRPC";
constexpr uint8_t peer_list_format = 1;
constexpr uint8_t ping_format = 1;
constexpr size_t max_endpoint = 256;
constexpr size_t max_addr = 256;

void u16be(encoder& e, uint16_t v) {
  e.u8(static_cast<uint8_t>(v >> 8));
  e.u8(static_cast<uint8_t>(v));
}
uint16_t u16be(decoder& d) {
  uint16_t hi = d.u8();
  return static_cast<uint16_t>((hi << 8) | d.u8());
}

error malformed(std::string what) {
  return error(errc::invalid_argument, "rpc: malformed " + what);
}

}  // namespace

std::string encode_hello(const hello& h) {
  encoder body;
  body.raw(hello_magic);
  u16be(body, h.version);
  body.raw(h.id.view());
  u16be(body, static_cast<uint16_t>(h.public_addr.size()));
  body.raw(h.public_addr);
  body.raw(h.mac);
  encoder out;
  out.u32be(static_cast<uint32_t>(body.view().size()));
  out.raw(body.view());
  return out.take();
}

result<hello> decode_hello(std::string_view body) {
  decoder d(body);
  if (d.raw(4) != hello_magic) return malformed("hello (bad magic)");
  hello h;
  h.version = u16be(d);
  h.id = node_id::from_raw(d.raw(32));
  uint16_t alen = u16be(d);
  if (alen > max_addr) return malformed("hello (address too long)");
  h.public_addr = std::string(d.raw(alen));
  h.mac = std::string(d.raw(32));
  if (!d.complete()) return malformed("hello");
  return h;
}

std::string hello_mac(std::string_view secret, std::string_view exporter, const node_id& id) {
  std::string data(exporter);
  data.append(id.view());
  return hmac_sha256(secret, data);
}

std::string encode_frame_header(const frame_header& h) {
  encoder e;
  e.u32be(h.msg_id);
  e.u8(static_cast<uint8_t>(h.kind));
  e.u8(h.flags);
  e.u32be(h.length);
  return e.take();
}

result<frame_header> decode_frame_header(std::string_view ten_bytes) {
  if (ten_bytes.size() != frame_header_size) return malformed("frame header");
  decoder d(ten_bytes);
  frame_header h;
  h.msg_id = d.u32be();
  uint8_t kind = d.u8();
  if (kind < 1 || kind > 6) return malformed("frame (unknown kind)");
  h.kind = static_cast<frame_kind>(kind);
  h.flags = d.u8();
  if (h.flags & ~flag_last) return malformed("frame (unknown flags)");
  h.length = d.u32be();
  if (h.length > max_frame_payload) return malformed("frame (too long)");
  return h;
}

std::string encode_request(priority prio, std::string_view endpoint, std::string_view body) {
  encoder e;
  e.u8(static_cast<uint8_t>(prio));
  u16be(e, static_cast<uint16_t>(endpoint.size()));
  e.raw(endpoint);
  std::string out = e.take();
  out.reserve(out.size() + body.size());
  out.append(body);
  return out;
}

result<request_msg> decode_request(std::string msg) {
  decoder d(msg);
  request_msg r;
  uint8_t p = d.u8();
  if (p > static_cast<uint8_t>(priority::background)) return malformed("request (priority)");
  r.prio = static_cast<priority>(p);
  uint16_t elen = u16be(d);
  if (elen > max_endpoint) return malformed("request (endpoint too long)");
  r.endpoint = std::string(d.raw(elen));
  if (d.failed()) return malformed("request");
  size_t head = msg.size() - d.remaining();
  msg.erase(0, head);
  r.body = std::move(msg);
  return r;
}

std::string encode_response(const result<std::string>& r) {
  encoder e;
  if (r) {
    e.u8(0);
    e.u32be(0);
    std::string out = e.take();
    out.append(*r);
    return out;
  }
  e.u8(static_cast<uint8_t>(1 + static_cast<int>(r.error().code)));
  e.u32be(static_cast<uint32_t>(r.error().message.size()));
  e.raw(r.error().message);
  return e.take();
}

result<result<std::string>> decode_response(std::string msg) {
  decoder d(msg);
  uint8_t status = d.u8();
  uint32_t mlen = d.u32be();
  if (mlen > d.remaining()) return malformed("response");
  std::string message(d.raw(mlen));
  if (d.failed() || status > 1 + static_cast<int>(errc::internal)) return malformed("response");
  if (status != 0) {
    return result<std::string>(error(static_cast<errc>(status - 1), std::move(message)));
  }
  msg.erase(0, msg.size() - d.remaining());
  return result<std::string>(std::move(msg));
}

std::string encode_trailer(const result<void>& status) {
  encoder e;
  if (status) {
    e.u8(0);
    e.u32be(0);
    return e.take();
  }
  e.u8(static_cast<uint8_t>(1 + static_cast<int>(status.error().code)));
  e.u32be(static_cast<uint32_t>(status.error().message.size()));
  e.raw(status.error().message);
  return e.take();
}

result<result<void>> decode_trailer(std::string_view payload) {
  decoder d(payload);
  uint8_t status = d.u8();
  uint32_t mlen = d.u32be();
  if (d.failed() || mlen != d.remaining() || status > 1 + static_cast<int>(errc::internal)) {
    return malformed("stream trailer");
  }
  std::string message(d.raw(mlen));
  if (status == 0) {
    if (!message.empty()) return malformed("stream trailer");
    return result<void>(ok());
  }
  return result<void>(error(static_cast<errc>(status - 1), std::move(message)));
}

std::string encode_control(const control_msg& m) {
  encoder e;
  e.u8(static_cast<uint8_t>(m.op));
  if (m.op == control_op::credit) e.u32be(m.credit);
  return e.take();
}

result<control_msg> decode_control(std::string_view payload) {
  decoder d(payload);
  control_msg m;
  uint8_t op = d.u8();
  if (op == static_cast<uint8_t>(control_op::credit)) {
    m.op = control_op::credit;
    m.credit = d.u32be();
  } else if (op == static_cast<uint8_t>(control_op::cancel)) {
    m.op = control_op::cancel;
  } else {
    return malformed("control frame (unknown op)");
  }
  if (!d.complete()) return malformed("control frame");
  return m;
}

std::string encode_peer_list(const std::vector<peer_entry>& peers) {
  encoder e;
  e.u8(peer_list_format);
  e.u32be(static_cast<uint32_t>(peers.size()));
  for (const auto& p : peers) {
    e.raw(p.id.view());
    u16be(e, static_cast<uint16_t>(p.addr.size()));
    e.raw(p.addr);
  }
  return e.take();
}

result<std::vector<peer_entry>> decode_peer_list(std::string_view body) {
  decoder d(body);
  if (d.u8() != peer_list_format) return malformed("peer list (format)");
  uint32_t n = d.u32be();
  if (n > 100'000) return malformed("peer list (count)");
  std::vector<peer_entry> out;
  for (uint32_t i = 0; i < n && !d.failed(); i++) {
    peer_entry p;
    p.id = node_id::from_raw(d.raw(32));
    uint16_t alen = u16be(d);
    if (alen > max_addr) return malformed("peer list (address)");
    p.addr = std::string(d.raw(alen));
    out.push_back(std::move(p));
  }
  if (!d.complete()) return malformed("peer list");
  return out;
}

std::string encode_ping(std::string_view status) {
  encoder e;
  e.u8(ping_format);
  e.raw(status);
  return e.take();
}

result<std::string> decode_ping(std::string_view body) {
  if (body.empty() || static_cast<uint8_t>(body[0]) != ping_format) return malformed("ping");
  return std::string(body.substr(1));
}

result<peer_entry> parse_peer_address(std::string_view s) {
  auto at = s.find('@');
  if (at == std::string_view::npos) {
    return error(errc::invalid_argument,
                 "peer address '" + std::string(s) + "': expected <node id>@<host:port>");
  }
  peer_entry p;
  if (!node_id::from_hex(s.substr(0, at), p.id)) {
    return error(errc::invalid_argument,
                 "peer address '" + std::string(s) + "': the node id must be 64 hex digits");
  }
  p.addr = std::string(s.substr(at + 1));
  auto colon = p.addr.rfind(':');
  if (p.addr.empty() || colon == std::string::npos || colon == 0 || colon + 1 == p.addr.size() ||
      p.addr.size() > max_addr) {
    return error(errc::invalid_argument,
                 "peer address '" + std::string(s) + "': expected host:port after '@'");
  }
  return p;
}

}  // namespace garage::rpc::wire
