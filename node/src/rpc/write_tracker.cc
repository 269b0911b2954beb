#include "rpc/write_tracker.h"

#include <algorithm>
#include <utility>

namespace garage::rpc {

write_tracker::guard::guard(guard&& o) noexcept
    : tracker_(std::exchange(o.tracker_, nullptr)),
      layout_(std::move(o.layout_)),
      version_(o.version_) {}

write_tracker::guard& write_tracker::guard::operator=(guard&& o) noexcept {
  if (this != &o) {
    release();
    tracker_ = std::exchange(o.tracker_, nullptr);
    layout_ = std::move(o.layout_);
    version_ = o.version_;
  }
  return *this;
}

void write_tracker::guard::release() {
  if (tracker_) std::exchange(tracker_, nullptr)->end(version_);
}

write_tracker::guard write_tracker::begin() {
  std::lock_guard lk(mu_);
  // Read under the lock: see the header (ordering against max_ack).
  auto l = layout_();
  const uint64_t v = l->current().version();
  ++counts_[v];
  return guard(this, std::move(l), v);
}

void write_tracker::end(uint64_t version) {
  std::lock_guard lk(mu_);
  auto it = counts_.find(version);
  if (it != counts_.end() && it->second > 0) --it->second;
}

uint64_t write_tracker::max_ack(const layout::layout_history& h) const {
  const uint64_t cur = h.current().version();
  std::lock_guard lk(mu_);
  uint64_t out = cur;
  for (auto it = counts_.begin(); it != counts_.end();) {
    if (it->second == 0) {
      it = it->first < cur ? counts_.erase(it) : std::next(it);
      continue;
    }
    out = std::min(out, it->first);
    ++it;
  }
  return std::max(out, h.min_stored());
}

uint64_t write_tracker::in_flight() const {
  std::lock_guard lk(mu_);
  uint64_t n = 0;
  for (const auto& [v, c] : counts_) n += c;
  return n;
}

uint64_t write_tracker::in_flight(uint64_t version) const {
  std::lock_guard lk(mu_);
  auto it = counts_.find(version);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace garage::rpc
