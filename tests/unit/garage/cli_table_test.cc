#include "garage/cli_table.h"

#include <gtest/gtest.h>

namespace garage::cli {
namespace {

TEST(cli_table, columns_align_on_the_widest_cell) {
  std::string t = format_table({{"ID", "Name"}, {"GK1234", "alice"}, {"GK1", "bob"}});
  EXPECT_EQ(t,
            "ID      Name\n"
            "GK1234  alice\n"
            "GK1     bob\n");
}

TEST(cli_table, no_trailing_blanks_and_short_rows_padded) {
  std::string t = format_table({{"A", "B", "C"}, {"x"}, {"", "", "z"}});
  EXPECT_EQ(t,
            "A  B  C\n"
            "x\n"
            "      z\n");
}

TEST(cli_table, utf8_counts_code_points) {
  std::string t = format_table({{"Name", "X"}, {"héhé", "1"}, {"abcd", "2"}});
  EXPECT_EQ(t,
            "Name  X\n"
            "héhé  1\n"
            "abcd  2\n");
}

TEST(cli_table, fields_align_values) {
  EXPECT_EQ(format_fields({{"Key ID", "GK1"}, {"Secret key", "s"}, {"Empty", ""}}),
            "Key ID:      GK1\n"
            "Secret key:  s\n"
            "Empty:\n");
}

TEST(cli_table, bytes_in_si_units) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(999), "999 B");
  EXPECT_EQ(format_bytes(1000), "1.0 kB");
  EXPECT_EQ(format_bytes(1234567), "1.2 MB");
  EXPECT_EQ(format_bytes(999999), "1.0 MB");  // not "1000.0 kB"
  EXPECT_EQ(format_bytes(4'000'000'000ull), "4.0 GB");
  EXPECT_EQ(format_bytes(UINT64_MAX), "18.4 EB");
}

TEST(cli_table, permission_flags) {
  EXPECT_EQ(format_permissions(true, true, true), "RWO");
  EXPECT_EQ(format_permissions(true, false, false), "R--");
  EXPECT_EQ(format_permissions(false, false, true), "--O");
}

}  // namespace
}  // namespace garage::cli
