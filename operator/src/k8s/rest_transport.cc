// The one translation unit that includes cpprestsdk (and, through it, Asio).
#include "k8s/rest_transport.h"

// clang-format off
#include <utility>
#include <boost/asio/ssl.hpp>
#include <cpprest/http_client.h>
// clang-format on

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>

namespace garage::k8s {

namespace {

namespace http = web::http;
namespace hc = web::http::client;
using clock = std::chrono::steady_clock;

api_error transport_error(std::string_view reason, std::string message) {
  return api_error{0, std::string(reason), std::move(message)};
}

// Loads the PEMs into an SSL context; throws boost::system::system_error.
void configure_tls(boost::asio::ssl::context& ctx, const cluster_config& c) {
  if (!c.ca_pem.empty()) ctx.add_certificate_authority(boost::asio::buffer(c.ca_pem));
  if (!c.client_cert_pem.empty()) {
    ctx.use_certificate_chain(boost::asio::buffer(c.client_cert_pem));
    ctx.use_private_key(boost::asio::buffer(c.client_key_pem), boost::asio::ssl::context::pem);
  }
}

class rest_transport final : public transport {
 public:
  rest_transport(cluster_config config, rest_options options)
      : config_(std::move(config)),
        options_(std::move(options)),
        client_(web::uri(config_.server), client_config(options_.request_timeout)) {}

  api_result<http_response> send(const http_request& req) override {
    auto msg = make_message(req);
    if (!msg) return std::move(msg).error();
    try {
      auto resp = client_.request(*msg).get();
      http_response out;
      out.status = resp.status_code();
      out.content_type = resp.headers().content_type();
      out.body = resp.extract_utf8string(/*ignore_content_type=*/true).get();
      return out;
    } catch (const std::exception& e) {
      return failure(e);
    }
  }

  api_result<http_response> stream(const http_request& req, const data_sink& sink,
                                   std::stop_token stop) override {
    auto msg = make_message(req);
    if (!msg) return std::move(msg).error();
    // A client of its own: its timeout is the idle time a watch may have.
    hc::http_client client(web::uri(config_.server), client_config(options_.stream_idle_timeout));
    pplx::cancellation_token_source cancel;
    std::stop_callback on_stop(stop, [&cancel] { cancel.cancel(); });
    if (stop.stop_requested()) return transport_error(transport_reason::cancelled, "stopped");
    try {
      auto resp = client.request(*msg, cancel.get_token()).get();
      http_response out;
      out.status = resp.status_code();
      out.content_type = resp.headers().content_type();
      if (out.status < 200 || out.status > 299) {
        out.body = resp.extract_utf8string(true).get();
        return out;
      }
      auto buf = resp.body().streambuf();
      std::string chunk;
      for (;;) {
        // Take what is there, or wait for one byte: getn only returns once it
        // can fill the whole request.
        size_t want = std::clamp<size_t>(
            static_cast<size_t>(std::max<std::streamsize>(buf.in_avail(), 0)), 1, 64 * 1024);
        chunk.resize(want);
        size_t got = buf.getn(reinterpret_cast<uint8_t*>(chunk.data()), want).get();
        if (got == 0) break;  // end of body
        if (stop.stop_requested()) break;
        if (!sink(std::string_view(chunk.data(), got))) {
          cancel.cancel();  // close the connection rather than drain the stream
          break;
        }
      }
      if (stop.stop_requested()) return transport_error(transport_reason::cancelled, "stopped");
      return out;
    } catch (const std::exception& e) {
      if (stop.stop_requested()) return transport_error(transport_reason::cancelled, "stopped");
      return failure(e);
    }
  }

 private:
  hc::http_client_config client_config(std::chrono::seconds timeout) const {
    hc::http_client_config c;
    c.set_timeout(timeout);
    c.set_validate_certificates(!config_.insecure_skip_tls_verify);
    auto cfg = config_;
    c.set_ssl_context_callback([cfg](boost::asio::ssl::context& ctx) { configure_tls(ctx, cfg); });
    return c;
  }

  api_result<std::string> bearer_token() {
    if (config_.token_file.empty()) return config_.token;
    std::lock_guard lock(token_mu_);
    auto now = clock::now();
    if (token_read_at_ == clock::time_point() || now - token_read_at_ > std::chrono::minutes(1)) {
      std::ifstream in(config_.token_file);
      std::ostringstream s;
      if (!in || !(s << in.rdbuf()))
        return transport_error(transport_reason::bad_request,
                               "cannot read token file " + config_.token_file);
      token_ = s.str();
      while (!token_.empty() && (token_.back() == '\n' || token_.back() == '\r')) token_.pop_back();
      token_read_at_ = now;
    }
    return token_;
  }

  api_result<http::http_request> make_message(const http_request& req) {
    http::http_request msg(req.method);
    try {
      msg.set_request_uri(web::uri(req.target));
    } catch (const std::exception& e) {
      return transport_error(transport_reason::bad_request,
                             "bad request target " + req.target + ": " + e.what());
    }
    auto token = bearer_token();
    if (!token) return std::move(token).error();
    if (!token->empty()) msg.headers().add("Authorization", "Bearer " + *token);
    msg.headers().add("Accept", req.accept);
    msg.headers().add("User-Agent", options_.user_agent);
    if (!req.content_type.empty()) msg.set_body(req.body, req.content_type);
    return msg;
  }

  api_error failure(const std::exception& e) const {
    std::string what = e.what();
    bool timeout =
        what.find("timed out") != std::string::npos || what.find("Timeout") != std::string::npos;
    return transport_error(timeout ? transport_reason::timeout : transport_reason::unreachable,
                           config_.server + ": " + what);
  }

  cluster_config config_;
  rest_options options_;
  hc::http_client client_;
  std::mutex token_mu_;
  std::string token_;
  clock::time_point token_read_at_;
};

}  // namespace

api_result<std::shared_ptr<transport>> make_rest_transport(const cluster_config& config,
                                                           const rest_options& options) {
  try {
    boost::asio::ssl::context probe(boost::asio::ssl::context::sslv23_client);
    configure_tls(probe, config);
  } catch (const std::exception& e) {
    return transport_error(
        transport_reason::bad_request,
        config.source + ": bad TLS material (CA, client certificate or key): " + e.what());
  }
  try {
    return std::shared_ptr<transport>(std::make_shared<rest_transport>(config, options));
  } catch (const std::exception& e) {
    return transport_error(transport_reason::bad_request,
                           config.source + ": server " + config.server + ": " + e.what());
  }
}

}  // namespace garage::k8s
