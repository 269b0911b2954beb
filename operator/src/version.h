// The operator's version, printed by `garage-operator --version` and sent as
// part of its User-Agent.
#pragma once

#include <string_view>

namespace garage::op {

inline constexpr std::string_view operator_version = "0.1.0";

}  // namespace garage::op
