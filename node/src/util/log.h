// Logging through spdlog. `init_logging` is called once by main; before that,
// spdlog's default logger (stderr) is used.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace garage {

// level: trace, debug, info, warn, error, off. Returns false on an unknown level.
bool init_logging(std::string_view level);

}  // namespace garage

#define LOG_TRACE(...) ::spdlog::trace(__VA_ARGS__)
#define LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
