#include "rpc/peer_list.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/log.h"

namespace garage::rpc {
namespace {
constexpr std::string_view header = "garage-peer-list 1";
}

result<std::map<layout::node_id, std::string>> load_peer_list(const std::string& path) {
  std::map<layout::node_id, std::string> out;
  std::ifstream in(path);
  if (!in) {
    if (!std::filesystem::exists(path)) return out;
    return error(errc::io_error, "cannot read " + path);
  }
  std::string line;
  if (!std::getline(in, line)) return out;
  if (line != header) return error(errc::corrupted, path + ": unknown format '" + line + "'");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream ls(line);
    std::string hex, addr;
    layout::node_id id;
    if (!(ls >> hex >> addr) || !layout::node_id::from_hex(hex, id)) {
      LOG_WARN("{}: skipping malformed line '{}'", path, line);
      continue;
    }
    out[id] = addr;
  }
  return out;
}

result<void> save_peer_list(const std::string& path,
                            const std::map<layout::node_id, std::string>& peers) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return error(errc::io_error, "cannot write " + tmp);
    out << header << "\n";
    for (const auto& [id, addr] : peers) out << id.hex() << " " << addr << "\n";
    out.flush();
    if (!out) return error(errc::io_error, "cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return error(errc::io_error, "cannot rename " + tmp + ": " + ec.message());
  return ok();
}

}  // namespace garage::rpc
