#include "api/common/metrics.h"

#include <string>

namespace garage::http {

namespace {

const prometheus::Histogram::BucketBoundaries& duration_buckets() {
  static const prometheus::Histogram::BucketBoundaries b{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return b;
}

}  // namespace

http_metrics::http_metrics(prometheus::Registry& registry)
    : requests(prometheus::BuildCounter()
                   .Name("garage_http_requests_total")
                   .Help("HTTP requests served, by API, endpoint and status")
                   .Register(registry)),
      duration(prometheus::BuildHistogram()
                   .Name("garage_http_request_duration_seconds")
                   .Help("Time from the end of the request header to the end of the response")
                   .Register(registry)),
      request_bytes(prometheus::BuildCounter()
                        .Name("garage_http_request_bytes_total")
                        .Help("Request body bytes read")
                        .Register(registry)),
      response_bytes(prometheus::BuildCounter()
                         .Name("garage_http_response_bytes_total")
                         .Help("Response body bytes sent")
                         .Register(registry)),
      connections(prometheus::BuildGauge()
                      .Name("garage_http_connections")
                      .Help("Open HTTP connections")
                      .Register(registry)) {}

void http_metrics::record(std::string_view api, std::string_view endpoint, unsigned status,
                          double seconds, uint64_t body_bytes_in, uint64_t body_bytes_out) {
  std::string a(api), e(endpoint);
  requests.Add({{"api", a}, {"endpoint", e}, {"status", std::to_string(status)}}).Increment();
  duration.Add({{"api", a}, {"endpoint", e}}, duration_buckets()).Observe(seconds);
  if (body_bytes_in) request_bytes.Add({{"api", a}}).Increment(static_cast<double>(body_bytes_in));
  if (body_bytes_out)
    response_bytes.Add({{"api", a}}).Increment(static_cast<double>(body_bytes_out));
}

void http_metrics::connection_opened(std::string_view api) {
  connections.Add({{"api", std::string(api)}}).Increment();
}

void http_metrics::connection_closed(std::string_view api) {
  connections.Add({{"api", std::string(api)}}).Decrement();
}

}  // namespace garage::http
