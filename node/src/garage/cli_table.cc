#include "garage/cli_table.h"

#include <algorithm>
#include <cstdio>

namespace garage::cli {
namespace {

size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;  // count lead bytes only
  return n;
}

void rtrim(std::string& s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
}

}  // namespace

std::string format_table(const std::vector<table_row>& rows) {
  size_t ncols = 0;
  for (const auto& r : rows) ncols = std::max(ncols, r.size());
  std::vector<size_t> width(ncols, 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], display_width(r[i]));
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < ncols; ++i) {
      std::string cell = i < r.size() ? r[i] : std::string();
      line += cell;
      if (i + 1 < ncols) line += std::string(width[i] - display_width(cell) + 2, ' ');
    }
    rtrim(line);
    out += line + "\n";
  }
  return out;
}

std::string format_fields(const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t w = 0;
  for (const auto& [k, v] : fields) w = std::max(w, display_width(k) + 1);
  std::string out;
  for (const auto& [k, v] : fields) {
    std::string line = k + ":" + std::string(w - display_width(k) - 1 + 2, ' ') + v;
    rtrim(line);
    out += line + "\n";
  }
  return out;
}

std::string format_bytes(uint64_t bytes) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  if (bytes < 1000) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1000.0 && u + 1 < std::size(units)) {
    v /= 1000.0;
    ++u;
  }
  // Rounding may reach 1000.0 of this unit (999.95 kB): show the next one.
  if (v >= 999.95 && u + 1 < std::size(units)) {
    v /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string format_permissions(bool read, bool write, bool owner) {
  return std::string(read ? "R" : "-") + (write ? "W" : "-") + (owner ? "O" : "-");
}

}  // namespace garage::cli
