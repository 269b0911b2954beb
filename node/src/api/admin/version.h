// The version of this garage implementation, reported by the admin API
// (GetClusterStatus, GetNodeInfo, garage_build_info) and `garage --version`.
#pragma once

#include <string_view>

namespace garage {

inline constexpr std::string_view garage_version = "0.1.0";

}  // namespace garage
