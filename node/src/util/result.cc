#include "util/result.h"

namespace garage {

const char* errc_name(errc c) {
  switch (c) {
    case errc::invalid_argument:
      return "invalid argument";
    case errc::not_found:
      return "not found";
    case errc::already_exists:
      return "already exists";
    case errc::conflict:
      return "conflict";
    case errc::permission_denied:
      return "permission denied";
    case errc::unauthenticated:
      return "unauthenticated";
    case errc::io_error:
      return "I/O error";
    case errc::corrupted:
      return "corrupted";
    case errc::unavailable:
      return "unavailable";
    case errc::timeout:
      return "timeout";
    case errc::too_large:
      return "too large";
    case errc::not_implemented:
      return "not implemented";
    case errc::internal:
      return "internal error";
  }
  return "unknown error";
}

std::string error::to_string() const {
  if (message.empty()) return errc_name(code);
  return message;
}

}  // namespace garage
