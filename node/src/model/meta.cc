#include "model/meta.h"

#include <future>

namespace garage::model {

meta_tx::held* meta_tx::find(std::string_view table, std::string_view key) {
  for (auto& h : held_) {
    if (h.table == table && h.key == key) return &h;
  }
  return nullptr;
}

result<void> meta_tx::commit() {
  if (tx_) return tx_->commit();
  std::vector<held> writes = std::move(held_);
  held_.clear();
  if (writes.empty()) return ok();
  if (writes.size() == 1) return writes[0].send(writes[0].bytes);
  // Each write waits for its own quorum: send them side by side, so an
  // operation costs one round trip, not one per entry.
  std::vector<std::future<result<void>>> pending;
  pending.reserve(writes.size() - 1);
  for (size_t i = 1; i < writes.size(); ++i) {
    pending.push_back(std::async(std::launch::async, [&w = writes[i]] { return w.send(w.bytes); }));
  }
  result<void> first = writes[0].send(writes[0].bytes);
  for (auto& f : pending) {
    auto r = f.get();
    if (first && !r) first = std::move(r);
  }
  return first;
}

}  // namespace garage::model
