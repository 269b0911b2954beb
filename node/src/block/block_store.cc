#include "block/block_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "util/clock.h"
#include "util/log.h"
#include "util/random.h"

namespace garage::block {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view temp_marker = ".tmp-";

error io_error(const std::string& what, const std::string& path, int err) {
  return error(errc::io_error, what + " " + path + ": " + std::strerror(err));
}

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string parent_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

result<void> fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return io_error("fsync", path, err);
  return ok();
}

// Creates `dir` if absent; with fsync, makes the new entry durable in its parent.
result<void> make_dir(const std::string& dir, bool fsync) {
  if (::mkdir(dir.c_str(), 0755) == 0) {
    if (fsync) return fsync_path(parent_of(dir));
    return ok();
  }
  if (errno == EEXIST) return ok();
  return io_error("mkdir", dir, errno);
}

result<void> write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write", path, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return ok();
}

// Size of the file at `path`, or -1 when absent.
int64_t file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_size;
}

}  // namespace

result<std::unique_ptr<block_store>> block_store::open(const std::string& data_dir, bool fsync) {
  if (data_dir.empty()) return error(errc::invalid_argument, "block store: empty data_dir");
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return error(errc::io_error, "create " + dir + ": " + ec.message());
  std::unique_ptr<block_store> s(new block_store(std::move(dir), fsync));
  GARAGE_TRY(s->scan());
  return s;
}

result<void> block_store::scan() {
  // Walks only the fan-out (two levels of 2-hex-digit directories); anything
  // else in data_dir (corrupted/, files an operator left) is not ours to judge.
  std::error_code ec;
  uint64_t blocks = 0, bytes = 0;
  for (auto it = fs::directory_iterator(data_dir_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string l1 = it->path().filename().string();
    if (l1.size() != 2 || !is_hex(l1) || !it->is_directory()) continue;
    std::error_code ec2;
    for (auto jt = fs::directory_iterator(it->path(), ec2); !ec2 && jt != fs::directory_iterator();
         jt.increment(ec2)) {
      std::string l2 = jt->path().filename().string();
      if (l2.size() != 2 || !is_hex(l2) || !jt->is_directory()) continue;
      std::error_code ec3;
      for (auto kt = fs::directory_iterator(jt->path(), ec3);
           !ec3 && kt != fs::directory_iterator(); kt.increment(ec3)) {
        std::string name = kt->path().filename().string();
        if (name.find(temp_marker) != std::string::npos) {
          std::error_code rm;
          if (fs::remove(kt->path(), rm)) {
            ++stale_removed_;
          } else if (rm) {
            LOG_WARN("block store: cannot remove stale temp file {}: {}", kt->path().string(),
                     rm.message());
          }
          continue;
        }
        if (name.size() == 64 && is_hex(name) && name.compare(0, 2, l1) == 0 &&
            name.compare(2, 2, l2) == 0) {
          std::error_code sz;
          auto size = kt->file_size(sz);
          if (sz) continue;
          ++blocks;
          bytes += size;
        }
      }
      if (ec3) return error(errc::io_error, "scan " + jt->path().string() + ": " + ec3.message());
    }
    if (ec2) return error(errc::io_error, "scan " + it->path().string() + ": " + ec2.message());
  }
  if (ec) return error(errc::io_error, "scan " + data_dir_ + ": " + ec.message());
  if (stale_removed_ > 0)
    LOG_INFO("block store: removed {} stale temp files under {}", stale_removed_, data_dir_);
  blocks_ = blocks;
  bytes_ = bytes;
  return ok();
}

std::string block_store::path_of(const hash256& id) const {
  std::string hex = id.hex();
  std::string p;
  p.reserve(data_dir_.size() + 7 + hex.size());
  p.append(data_dir_).append("/").append(hex, 0, 2).append("/").append(hex, 2, 2);
  p.append("/").append(hex);
  return p;
}

std::string block_store::corrupted_dir() const { return data_dir_ + "/corrupted"; }

result<std::string> block_store::read(const hash256& id) const {
  std::string path = path_of(id);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return error(errc::not_found, "block " + id.hex() + " not stored here");
    return io_error("open", path, errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return io_error("stat", path, err);
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  for (;;) {
    if (got == out.size()) out.resize(out.size() + 4096);  // the file grew; read to EOF
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return io_error("read", path, err);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

bool block_store::exists(const hash256& id) const { return file_size(path_of(id)) >= 0; }

result<std::string> block_store::ensure_dir(const hash256& id) {
  std::string hex = id.hex();
  std::string l1 = data_dir_ + "/" + hex.substr(0, 2);
  std::string l2 = l1 + "/" + hex.substr(2, 2);
  if (::access(l2.c_str(), F_OK) == 0) return l2;
  GARAGE_TRY(make_dir(l1, fsync_));
  GARAGE_TRY(make_dir(l2, fsync_));
  return l2;
}

result<void> block_store::write(const hash256& id, std::string_view bytes) {
  GARAGE_ASSIGN_OR_RETURN(std::string dir, ensure_dir(id));
  std::string path = path_of(id);
  std::string tmp = path + std::string(temp_marker) + random_hex(8);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("create", tmp, errno);
  auto fail = [&](error e) -> result<void> {
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  };
  if (auto w = write_all(fd, bytes, tmp); !w) return fail(std::move(w).error());
  if (fsync_ && ::fsync(fd) != 0) return fail(io_error("fsync", tmp, errno));
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return io_error("close", tmp, err);
  }
  int64_t old_size = file_size(path);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return io_error("rename", tmp, err);
  }
  if (old_size < 0) {
    blocks_.fetch_add(1, std::memory_order_relaxed);
  } else {
    bytes_.fetch_sub(static_cast<uint64_t>(old_size), std::memory_order_relaxed);
  }
  bytes_.fetch_add(bytes.size(), std::memory_order_relaxed);
  if (fsync_) GARAGE_TRY(fsync_path(dir));
  return ok();
}

result<void> block_store::read_pieces(
    const hash256& id, size_t piece,
    const std::function<result<void>(std::string_view)>& sink) const {
  std::string path = path_of(id);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return error(errc::not_found, "block " + id.hex() + " not stored here");
    return io_error("open", path, errno);
  }
  std::string buf(std::max<size_t>(piece, 1), '\0');
  result<void> r = ok();
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      r = io_error("read", path, errno);
      break;
    }
    if (n == 0) break;
    r = sink(std::string_view(buf.data(), static_cast<size_t>(n)));
    if (!r) break;
  }
  ::close(fd);
  return r;
}

result<std::unique_ptr<block_store::file_writer>> block_store::begin_write(const hash256& id) {
  GARAGE_ASSIGN_OR_RETURN(std::string dir, ensure_dir(id));
  std::string tmp = path_of(id) + std::string(temp_marker) + random_hex(8);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("create", tmp, errno);
  return std::unique_ptr<file_writer>(new file_writer(*this, id, std::move(dir), tmp, fd));
}

block_store::file_writer::~file_writer() {
  if (done_) return;
  ::close(fd_);
  ::unlink(tmp_.c_str());
}

result<void> block_store::file_writer::append(std::string_view bytes) {
  if (done_) return error(errc::internal, "block store: append after commit");
  GARAGE_TRY(write_all(fd_, bytes, tmp_));
  size_ += bytes.size();
  return ok();
}

result<void> block_store::file_writer::commit() {
  if (done_) return error(errc::internal, "block store: committed twice");
  done_ = true;
  auto fail = [&](error e) -> result<void> {
    ::unlink(tmp_.c_str());
    return e;
  };
  if (store_.fsync_ && ::fsync(fd_) != 0) {
    int err = errno;
    ::close(fd_);
    return fail(io_error("fsync", tmp_, err));
  }
  if (::close(fd_) != 0) return fail(io_error("close", tmp_, errno));
  std::string path = store_.path_of(id_);
  int64_t old_size = file_size(path);
  if (::rename(tmp_.c_str(), path.c_str()) != 0) return fail(io_error("rename", tmp_, errno));
  if (old_size < 0) {
    store_.blocks_.fetch_add(1, std::memory_order_relaxed);
  } else {
    store_.bytes_.fetch_sub(static_cast<uint64_t>(old_size), std::memory_order_relaxed);
  }
  store_.bytes_.fetch_add(size_, std::memory_order_relaxed);
  if (store_.fsync_) GARAGE_TRY(fsync_path(dir_));
  return ok();
}

result<bool> block_store::remove(const hash256& id) {
  std::string path = path_of(id);
  int64_t size = file_size(path);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return false;
    return io_error("unlink", path, errno);
  }
  blocks_.fetch_sub(1, std::memory_order_relaxed);
  if (size > 0) bytes_.fetch_sub(static_cast<uint64_t>(size), std::memory_order_relaxed);
  if (fsync_) GARAGE_TRY(fsync_path(parent_of(path)));
  return true;
}

result<bool> block_store::move_aside(const hash256& id) {
  std::string path = path_of(id);
  std::string dir = corrupted_dir();
  GARAGE_TRY(make_dir(dir, fsync_));
  std::string dest = dir + "/" + id.hex() + "." + std::to_string(now_msec()) + "-" + random_hex(4);
  int64_t size = file_size(path);
  if (::rename(path.c_str(), dest.c_str()) != 0) {
    if (errno == ENOENT) return false;
    return io_error("rename", path, errno);
  }
  blocks_.fetch_sub(1, std::memory_order_relaxed);
  if (size > 0) bytes_.fetch_sub(static_cast<uint64_t>(size), std::memory_order_relaxed);
  if (fsync_) {
    GARAGE_TRY(fsync_path(dir));
    GARAGE_TRY(fsync_path(parent_of(path)));
  }
  return true;
}

}  // namespace garage::block
