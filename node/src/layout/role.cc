#include "layout/role.h"

#include <charconv>

namespace garage::layout {

std::string short_id(const node_id& id) { return id.hex().substr(0, 16); }

result<void> validate(const node_role& role) {
  if (role.zone.empty())
    return error(errc::invalid_argument,
                 "zone name is empty: every node needs a zone (a site, a data centre, a "
                 "home); give it one, e.g. the name of its site");
  if (role.capacity && *role.capacity == 0)
    return error(errc::invalid_argument,
                 "capacity is 0: a node that stores nothing is a gateway; give it no "
                 "capacity to make it one, or a capacity in bytes to make it store data");
  return ok();
}

result<zone_redundancy> zone_redundancy::parse(std::string_view text) {
  if (text == "maximum") return maximum();
  uint32_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n == 0)
    return error(errc::invalid_argument,
                 "zone redundancy must be \"maximum\" or a number of "
                 "zones >= 1, got \"" +
                     std::string(text) + "\"");
  return at_least(n);
}

std::string zone_redundancy::to_string() const {
  return is_maximum() ? "maximum" : "at least " + std::to_string(at_least_);
}

result<void> validate(const layout_parameters& params) {
  const uint32_t rf = params.replication_factor;
  if (rf < 1 || rf > max_replication_factor)
    return error(errc::invalid_argument, "replication factor must be between 1 and " +
                                             std::to_string(max_replication_factor) + ", got " +
                                             std::to_string(rf));
  const uint32_t zr = params.redundancy.at_least_zones();
  if (!params.redundancy.is_maximum() && zr > rf)
    return error(errc::invalid_argument,
                 "zone redundancy \"at least " + std::to_string(zr) +
                     "\" cannot exceed the replication factor " + std::to_string(rf) +
                     ": a partition has only " + std::to_string(rf) +
                     " replicas; lower the zone redundancy or raise the replication factor");
  return ok();
}

}  // namespace garage::layout
