#include "garage/node_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/encoding.h"
#include "util/random.h"

namespace garage::cli {
namespace {

std::string trim(std::string s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && blank(s.back())) s.pop_back();
  size_t i = 0;
  while (i < s.size() && blank(s[i])) ++i;
  return s.substr(i);
}

}  // namespace

result<config_source> resolve_config(const std::optional<std::string>& config_path,
                                     const std::optional<std::string>& default_dir) {
  std::optional<std::string> file = config_path;
  if (!file && !default_dir) {
    const char* env = std::getenv("GARAGE_CONFIG");
    if (env && *env) file = env;
  }
  config_source src;
  if (file) {
    auto c = load_config_file(*file);
    if (!c) return std::move(c).error();
    src.cfg = std::move(*c);
    src.origin = *file;
    return src;
  }
  std::string dir = default_dir.value_or(default_base_dir);
  if (dir.empty()) return error(errc::invalid_argument, "--default-config: empty directory");
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  src.cfg = default_config(dir);
  src.is_default = true;
  src.origin = "built-in configuration under " + dir;
  return src;
}

result<std::string> read_admin_token(const config& cfg) {
  if (!cfg.admin.admin_token.empty()) return cfg.admin.admin_token;
  const std::string& path = cfg.admin.admin_token_file;
  if (path.empty()) return error(errc::invalid_argument, "no admin token is configured");
  std::ifstream in(path);
  if (!in) {
    return error(errno == ENOENT ? errc::not_found : errc::io_error,
                 "admin.admin_token_file: cannot read '" + path + "': " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token = trim(ss.str());
  if (token.empty())
    return error(errc::invalid_argument, "admin.admin_token_file: '" + path + "' is empty");
  return token;
}

result<std::string> ensure_admin_token(const config& cfg) {
  auto existing = read_admin_token(cfg);
  if (existing || existing.error().code != errc::not_found) return existing;
  const std::string& path = cfg.admin.admin_token_file;
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return error(errc::io_error, "cannot create " + parent.string() + ": " + ec.message());
  std::string token = random_hex(32);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return read_admin_token(cfg);  // created meanwhile
    return error(errc::io_error, "cannot create '" + path + "': " + std::strerror(errno));
  }
  std::string data = token + "\n";
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) return error(errc::io_error, "cannot write '" + path + "'");
  return token;
}

namespace {

result<std::string> decode_secret(const std::string& hex, const std::string& where) {
  auto raw = hex_decode(hex);
  if (hex.size() != 64 || !raw || raw->size() != 32)
    return error(errc::invalid_argument, where + ": expected 64 hex digits (32 bytes)");
  return *raw;
}

}  // namespace

result<std::string> resolve_rpc_secret(const config& cfg, bool create) {
  if (!cfg.rpc_secret.empty()) return decode_secret(cfg.rpc_secret, "rpc_secret");
  std::string path = cfg.rpc_secret_file;
  std::string option = "rpc_secret_file";
  if (path.empty()) {
    path = (std::filesystem::path(cfg.metadata_dir) / "rpc_secret").string();
    option = "rpc_secret (generated)";
    create = true;
  }
  for (int attempt = 0; attempt < 2; attempt++) {
    std::ifstream in(path);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      return decode_secret(trim(ss.str()), option + " '" + path + "'");
    }
    if (errno != ENOENT)
      return error(errc::io_error,
                   option + ": cannot read '" + path + "': " + std::strerror(errno));
    if (!create) return error(errc::not_found, option + ": '" + path + "' does not exist");
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;  // created meanwhile
      return error(errc::io_error, "cannot create '" + path + "': " + std::strerror(errno));
    }
    std::string data = random_hex(32) + "\n";
    bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
    if (!ok) return error(errc::io_error, "cannot write '" + path + "'");
  }
  return error(errc::io_error, option + ": cannot read '" + path + "'");
}

std::string connect_address(const std::string& bind_addr) {
  auto hp = parse_host_port(bind_addr, "address");
  if (!hp) return bind_addr;
  std::string port = std::to_string(hp->port);
  if (hp->host == "0.0.0.0" || hp->host.empty()) return "127.0.0.1:" + port;
  if (hp->host == "::") return "[::1]:" + port;
  return bind_addr;
}

}  // namespace garage::cli
