// wire: the byte formats of the RPC protocol (see README.md, "Wire protocol").
// Pure functions, no I/O: the connection code (network.cc) reads and writes
// these, and the unit tests feed them garbage.
//
// After the TLS handshake each side sends one hello (length-prefixed); then
// the stream is a sequence of frames: a 10-byte header and up to
// max_frame_payload bytes. Frames of several messages interleave; a message
// (a request or a response) is the concatenation of its frames' payloads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "layout/role.h"
#include "rpc/transport.h"
#include "util/result.h"

namespace garage::rpc::wire {

// 2: streamed bodies (frame kinds 3 to 6). A version-1 node cannot talk to a
// version-2 one: the hello refuses the other version.
inline constexpr uint16_t protocol_version = 2;
inline constexpr size_t max_hello_size = 1024;
inline constexpr size_t frame_header_size = 10;
inline constexpr size_t max_frame_payload = 64 * 1024;
// The label of the TLS exporter whose output the hello's MAC covers (RFC 8446 7.5).
inline constexpr std::string_view exporter_label = "EXPORTER-garage-rpc-hello";

struct hello {
  uint16_t version = protocol_version;
  node_id id{};
  std::string public_addr;  // host:port where the sender accepts connections; may be empty
  std::string mac;          // HMAC-SHA256(secret, exporter || id), 32 bytes
};
// The hello as sent: u32 length, then magic "GRPC", u16 version, id (32),
// u16 + address, mac (32).
std::string encode_hello(const hello& h);
// Decodes the part after the length prefix. invalid_argument on malformed
// input or an unknown magic; the version is returned as is (the caller checks it).
result<hello> decode_hello(std::string_view body);
// The MAC a node with `secret` and `id` sends on a TLS session with `exporter`.
std::string hello_mac(std::string_view secret, std::string_view exporter, const node_id& id);

// Kinds 1, 3 and 5 are sent by the caller of a call, 2, 4 and 6 by the node
// that serves it; the message id is always the caller's request id.
enum class frame_kind : uint8_t {
  request = 1,          // a whole request (frames concatenated)
  response = 2,         // a whole response
  request_stream = 3,   // a streamed request: header frame, chunk frames, trailer (last)
  response_stream = 4,  // a streamed response: chunk frames, trailer (last)
  caller_control = 5,   // one frame, last: credit for the response stream, or cancel
  server_control = 6,   // one frame, last: credit for the request stream
};
inline constexpr uint8_t flag_last = 1;  // the last frame of its message
// Stream bytes a receiver accepts before granting more (credit): the sender
// of a streamed body sends at most this many chunk bytes beyond what the
// receiver has granted back. 1 MiB: a 1 MiB block flies whole within the
// first round trip, as a whole message would.
inline constexpr size_t initial_stream_credit = 1 << 20;

struct frame_header {
  uint32_t msg_id = 0;
  frame_kind kind = frame_kind::request;
  uint8_t flags = 0;
  uint32_t length = 0;  // payload bytes that follow
};
std::string encode_frame_header(const frame_header& h);
// invalid_argument on an unknown kind, unknown flags or a length over
// max_frame_payload: the connection is then closed.
result<frame_header> decode_frame_header(std::string_view ten_bytes);

// A request message: u8 priority, u16 + endpoint, then the body.
std::string encode_request(priority prio, std::string_view endpoint, std::string_view body);
struct request_msg {
  priority prio = priority::normal;
  std::string endpoint;
  std::string body;
};
result<request_msg> decode_request(std::string msg);

// A response message: u8 status (0 = ok, else 1 + errc), u32 + error message,
// then the body.
std::string encode_response(const result<std::string>& r);
// The response's result, or invalid_argument if the message is malformed
// (callers turn that into a protocol error of the call).
result<result<std::string>> decode_response(std::string msg);

// The header frame of a streamed request is a request message (above) whose
// body is the head: it must fit in one frame.
inline constexpr size_t max_stream_head = max_frame_payload - 512;

// The trailer (last frame) of a streamed body: u8 status (0 = ok, else
// 1 + errc), u32 + error message.
std::string encode_trailer(const result<void>& status);
result<result<void>> decode_trailer(std::string_view payload);

// Control frames: u8 op, then op 1 (credit): u32 more bytes the receiver
// accepts; op 2 (cancel, caller_control only): nothing.
enum class control_op : uint8_t { credit = 1, cancel = 2 };
struct control_msg {
  control_op op = control_op::credit;
  uint32_t credit = 0;
};
std::string encode_control(const control_msg& m);
result<control_msg> decode_control(std::string_view payload);

// Peer exchange: version byte, count, then (id, address) pairs.
struct peer_entry {
  node_id id{};
  std::string addr;
};
std::string encode_peer_list(const std::vector<peer_entry>& peers);
result<std::vector<peer_entry>> decode_peer_list(std::string_view body);

// Ping body: version byte, then the sender's status blob.
std::string encode_ping(std::string_view status);
result<std::string> decode_ping(std::string_view body);

// "<64 hex digits>@<host:port>"; invalid_argument naming the problem.
result<peer_entry> parse_peer_address(std::string_view s);

}  // namespace garage::rpc::wire
