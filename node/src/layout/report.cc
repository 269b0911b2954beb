#include "layout/report.h"

#include <cstdio>

#include "layout/partition.h"

namespace garage::layout {

namespace {

std::string percent(uint64_t part, uint64_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", whole == 0 ? 0.0 : 100.0 * double(part) / double(whole));
  return buf;
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string join_tags(const std::vector<std::string>& tags) {
  std::string out;
  for (const auto& t : tags) out += (out.empty() ? "" : ",") + t;
  return out.empty() ? "-" : out;
}

}  // namespace

std::string format_bytes(uint64_t bytes) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  if (bytes < 1000) return std::to_string(bytes) + " B";
  double v = double(bytes);
  int u = 0;
  while (v >= 1000.0 && u < 6) {
    v /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

double layout_report::usable_percent() const {
  return total_capacity == 0 ? 0.0 : 100.0 * double(usable_capacity) / double(total_capacity);
}

std::string layout_report::to_string() const {
  const uint32_t rf = parameters.replication_factor;
  std::string s;
  s += "==== LAYOUT VERSION " + std::to_string(version) + " ====\n";
  s += "Partitions are replicated " + std::to_string(rf) + " times on at least " +
       std::to_string(zone_redundancy) +
       " distinct zones (zone redundancy: " + parameters.redundancy.to_string() + ").\n\n";
  s += "Partition size:        " + format_bytes(partition_size);
  if (previous_partition_size != 0)
    s += " (" + format_bytes(previous_partition_size) + " in the previous version)";
  s += "\n";
  s += "Usable / total:        " + format_bytes(usable_capacity) + " / " +
       format_bytes(total_capacity) + " (" + percent(usable_capacity, total_capacity) + ")\n";
  s += "Effective capacity:    " + format_bytes(effective_capacity) +
       " (usable / replication factor " + std::to_string(rf) + ")\n";
  s += "Replicas to copy:      " + std::to_string(replicas_moved) + " of " +
       std::to_string(replicas_total) + "\n";

  if (!transfers.empty()) {
    s += "\nMoves by zone (from -> to: replicas):\n";
    for (const auto& t : transfers) {
      s += "  " + (t.from.empty() ? std::string("(new copy)") : t.from) + " -> " +
           (t.to.empty() ? std::string("(dropped)") : t.to) + ": " + std::to_string(t.replicas) +
           "\n";
    }
  }

  s += "\n  Zone            Nodes  Capacity    Partitions  Distinct  Usable\n";
  for (const auto& z : zones) {
    s += "  " + pad(z.zone, 16) +
         pad(std::to_string(z.storage_nodes) +
                 (z.gateways ? "+" + std::to_string(z.gateways) + "gw" : ""),
             7) +
         pad(format_bytes(z.capacity), 12) + pad(std::to_string(z.partitions), 12) +
         pad(std::to_string(z.distinct_partitions) + "/" + std::to_string(partition_count), 10) +
         format_bytes(z.usable) + " (" + percent(z.usable, z.capacity) + ")\n";
  }

  s += "\n  Node              Zone            Tags        Capacity    Partitions      Usable\n";
  bool any_saturated = false;
  for (const auto& n : nodes) {
    s += "  " + pad(short_id(n.id), 18) + pad(n.zone, 16) + pad(join_tags(n.tags), 12);
    if (!n.capacity) {
      s += "gateway\n";
      continue;
    }
    s += pad(format_bytes(*n.capacity), 12) +
         pad(std::to_string(n.partitions) + " (" + std::to_string(n.new_partitions) + " new)", 16) +
         format_bytes(n.usable) + " (" + percent(n.usable, *n.capacity) + ")" +
         (n.saturated ? " *" : "") + "\n";
    any_saturated = any_saturated || n.saturated;
  }
  if (any_saturated)
    s += "\n* saturated: the node holds as many partitions as its capacity allows; such nodes "
         "(and their zones) bound the partition size. Raising their capacity, or adding "
         "capacity to their zone, raises the usable capacity.\n";
  if (total_capacity != 0 && usable_percent() < 80.0)
    s += "\nLess than 80% of the capacity is usable: the replication and zone constraints force "
         "every partition onto small nodes or zones. Move capacity between zones, or relax the "
         "zone redundancy.\n";
  return s;
}

}  // namespace garage::layout
