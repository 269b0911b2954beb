// Gauges the admin side adds to the node's Prometheus registry, refreshed at
// scrape time (cheap: a statvfs per volume):
//
//   garage_build_info{version}                 1
//   garage_local_disk_avail{volume=data|metadata}  bytes available
//   garage_local_disk_total{volume=data|metadata}  bytes in the file system
//
// Names as in Garage, so its dashboards work. Thread-safe.
#pragma once

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace garage::admin {

class admin_metrics {
 public:
  // registry must outlive this object; each registry gets one admin_metrics.
  admin_metrics(std::shared_ptr<prometheus::Registry> registry, std::string version,
                std::string data_dir, std::string metadata_dir);

  // Refreshes the gauges and returns the whole registry in the Prometheus
  // text format (version 0.0.4).
  std::string scrape();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::string data_dir_;
  std::string metadata_dir_;
  prometheus::Gauge* avail_data_ = nullptr;
  prometheus::Gauge* avail_meta_ = nullptr;
  prometheus::Gauge* total_data_ = nullptr;
  prometheus::Gauge* total_meta_ = nullptr;
};

}  // namespace garage::admin
