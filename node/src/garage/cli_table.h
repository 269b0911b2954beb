// Plain-text output of the command line: aligned tables and sizes. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace garage::cli {

using table_row = std::vector<std::string>;

// Left-aligned columns separated by two spaces, one row per line, no
// trailing blanks. The first row is the header. Widths count UTF-8 code
// points, so names with accents stay aligned. Rows shorter than the header
// are padded with empty cells.
std::string format_table(const std::vector<table_row>& rows);

// "Label:  value" lines with the values aligned.
std::string format_fields(const std::vector<std::pair<std::string, std::string>>& fields);

// A byte count in SI units, as Garage shows them: "0 B", "999 B", "1.0 kB",
// "12.3 MB", "4.0 GB".
std::string format_bytes(uint64_t bytes);

// "RWO" style permission flags: "RW-", "--O"...
std::string format_permissions(bool read, bool write, bool owner);

}  // namespace garage::cli
