#include "api/admin/admin_metrics.h"

#include <prometheus/text_serializer.h>
#include <sys/statvfs.h>

namespace garage::admin {

admin_metrics::admin_metrics(std::shared_ptr<prometheus::Registry> registry, std::string version,
                             std::string data_dir, std::string metadata_dir)
    : registry_(std::move(registry)),
      data_dir_(std::move(data_dir)),
      metadata_dir_(std::move(metadata_dir)) {
  if (!registry_) return;
  prometheus::BuildGauge()
      .Name("garage_build_info")
      .Help("Build information of this garage node")
      .Register(*registry_)
      .Add({{"version", version}})
      .Set(1);
  auto& avail = prometheus::BuildGauge()
                    .Name("garage_local_disk_avail")
                    .Help("Bytes available in the file system of a local volume")
                    .Register(*registry_);
  auto& total = prometheus::BuildGauge()
                    .Name("garage_local_disk_total")
                    .Help("Size in bytes of the file system of a local volume")
                    .Register(*registry_);
  avail_data_ = &avail.Add({{"volume", "data"}});
  avail_meta_ = &avail.Add({{"volume", "metadata"}});
  total_data_ = &total.Add({{"volume", "data"}});
  total_meta_ = &total.Add({{"volume", "metadata"}});
}

std::string admin_metrics::scrape() {
  if (!registry_) return {};
  auto refresh = [](const std::string& dir, prometheus::Gauge* avail, prometheus::Gauge* total) {
    struct statvfs st {};
    if (dir.empty() || ::statvfs(dir.c_str(), &st) != 0) return;
    avail->Set(static_cast<double>(st.f_bavail) * static_cast<double>(st.f_frsize));
    total->Set(static_cast<double>(st.f_blocks) * static_cast<double>(st.f_frsize));
  };
  refresh(data_dir_, avail_data_, total_data_);
  refresh(metadata_dir_, avail_meta_, total_meta_);
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace garage::admin
