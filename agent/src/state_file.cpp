// Atomic JSON state file (see state_file.h). POSIX I/O so every step's errno is checked;
// nothing here throws (JSON goes through pharos::parseJson).
#include "agent/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "pharos/json.h"

namespace pharos::agent {
namespace {

constexpr size_t kMaxStateFileBytes = size_t{64} << 20;

Status ioError(const std::string& what, const std::string& path) {
  return Status::unavailable(what + " " + path + ": " + std::strerror(errno));
}

std::string dirName(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status writeAll(int fd, const std::string& data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ioError("write", path);
    }
    off += static_cast<size_t>(n);
  }
  return Status::ok();
}

}  // namespace

Result<PersistedState> StateFile::load() {
  if (path_.empty()) {
    if (!memory_) return Status::notFound("no state (in-memory state file)");
    return *memory_;
  }
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::notFound("no state file at " + path_);
    return ioError("open", path_);
  }
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = ioError("read", path_);
      ::close(fd);
      return st;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxStateFileBytes) {
      ::close(fd);
      return Status::invalidArgument("state file " + path_ + " is larger than 64 MiB");
    }
  }
  ::close(fd);

  auto json = parseJson(text, kMaxStateFileBytes);
  if (!json.isOk()) {
    return Status::invalidArgument("state file " + path_ +
                                   " is corrupt: " + json.status().message());
  }
  JsonReader r(*json, "state");
  r.version();
  PersistedState state;
  state.last_session = r.i64("last_session", 0);
  state.node_desired = r.optStr("node_desired");
  state.secrets = r.optStr("secrets");
  for (auto& [group, payload] : r.stringMap("group_desired")) {
    state.group_desired[group] = payload;
  }
  if (!r.ok()) {
    return Status::invalidArgument("state file " + path_ + " is corrupt: " + r.status().message());
  }
  return state;
}

Status StateFile::save(const PersistedState& state) {
  if (path_.empty()) {
    memory_ = state;
    return Status::ok();
  }
  Json doc = Json::object();
  doc["v"] = 1;
  doc["last_session"] = state.last_session;
  if (state.node_desired) doc["node_desired"] = *state.node_desired;
  if (state.secrets) doc["secrets"] = *state.secrets;
  Json groups = Json::object();
  for (const auto& [g, payload] : state.group_desired) groups[g] = payload;
  doc["group_desired"] = groups;
  std::string text = dumpJson(doc);
  text.push_back('\n');

  std::string tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ioError("create", tmp);
  Status st = writeAll(fd, text, tmp);
  if (st.isOk() && ::fsync(fd) != 0) st = ioError("fsync", tmp);
  if (::close(fd) != 0 && st.isOk()) st = ioError("close", tmp);
  if (!st.isOk()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    Status err = ioError("rename", tmp);
    ::unlink(tmp.c_str());
    return err;
  }
  std::string dir = dirName(path_);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ioError("open directory", dir);
  Status dst = Status::ok();
  if (::fsync(dfd) != 0) dst = ioError("fsync directory", dir);
  ::close(dfd);
  return dst;
}

}  // namespace pharos::agent
