// Prometheus metrics of the HTTP servers. One http_metrics per registry,
// shared by every server (the `api` label tells them apart). Thread-safe.
//
//   garage_http_requests_total{api,endpoint,status}       counter
//   garage_http_request_duration_seconds{api,endpoint}    histogram, 1 ms .. 60 s
//   garage_http_request_bytes_total{api}                  request body bytes read
//   garage_http_response_bytes_total{api}                 response body bytes sent
//   garage_http_connections{api}                          open connections
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <string_view>

namespace garage::http {

struct http_metrics {
  // The families are added to `registry`, which must outlive this object.
  explicit http_metrics(prometheus::Registry& registry);

  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& duration;
  prometheus::Family<prometheus::Counter>& request_bytes;
  prometheus::Family<prometheus::Counter>& response_bytes;
  prometheus::Family<prometheus::Gauge>& connections;

  // One finished request.
  void record(std::string_view api, std::string_view endpoint, unsigned status, double seconds,
              uint64_t body_bytes_in, uint64_t body_bytes_out);
  void connection_opened(std::string_view api);
  void connection_closed(std::string_view api);
};

}  // namespace garage::http
