#include "layout/staging.h"

#include "layout/codec.h"

namespace garage::layout {

void layout_staging::set_role(const node_id& id, node_role role) {
  roles_[id] = std::move(role);
  ++stamp_;
}

void layout_staging::remove_role(const node_id& id) {
  roles_[id] = std::nullopt;
  ++stamp_;
}

void layout_staging::set_parameters(layout_parameters params) {
  parameters_ = params;
  ++stamp_;
}

void layout_staging::clear() {
  roles_.clear();
  parameters_.reset();
  ++stamp_;
}

std::map<node_id, node_role> layout_staging::apply_to(
    const std::map<node_id, node_role>& current) const {
  std::map<node_id, node_role> out = current;
  for (const auto& [id, role] : roles_) {
    if (role)
      out[id] = *role;
    else
      out.erase(id);
  }
  return out;
}

bool layout_staging::merge(const layout_staging& other) {
  if (other.stamp_ < stamp_ || other == *this) return false;
  if (other.stamp_ == stamp_ && encode_layout_staging(other) <= encode_layout_staging(*this))
    return false;
  *this = other;
  return true;
}

layout_staging layout_staging::from_parts(std::map<node_id, std::optional<node_role>> roles,
                                          std::optional<layout_parameters> params, uint64_t stamp) {
  layout_staging s;
  s.roles_ = std::move(roles);
  s.parameters_ = params;
  s.stamp_ = stamp;
  return s;
}

}  // namespace garage::layout
