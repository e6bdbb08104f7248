// sd_notify.h: the notification datagram over a Unix socket, with no dependency on libsystemd.
// Stateless; each call opens, uses and closes its own socket (thread-safe).
#include "pharos/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace pharos {
namespace {

std::string statusLine(std::string_view text) {
  std::string line = "STATUS=";
  for (char c : text) line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return line;
}

std::string withStatus(std::string state, std::string_view status) {
  if (!status.empty()) state += "\n" + statusLine(status);
  return state;
}

}  // namespace

bool sdNotifyEnabled() {
  const char* path = std::getenv("NOTIFY_SOCKET");  // NOLINT(concurrency-mt-unsafe)
  return path != nullptr && path[0] != '\0';
}

Status sdNotify(std::string_view state) {
  const char* env = std::getenv("NOTIFY_SOCKET");  // NOLINT(concurrency-mt-unsafe)
  if (env == nullptr || env[0] == '\0') return Status::ok();
  std::string path(env);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path[0] != '/' && path[0] != '@') {
    return Status::invalidArgument("NOTIFY_SOCKET: '" + path + "' is neither a path nor @abstract");
  }
  if (path.size() >= sizeof(addr.sun_path)) {
    return Status::invalidArgument("NOTIFY_SOCKET: path too long");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());

  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::unavailable(std::string("sd_notify socket: ") + std::strerror(errno));
  ssize_t sent = 0;
  do {
    sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&addr), len);
  } while (sent < 0 && errno == EINTR);
  int error = errno;
  ::close(fd);
  if (sent < 0) {
    return Status::unavailable("sd_notify " + path + ": " + std::strerror(error));
  }
  if (static_cast<size_t>(sent) != state.size()) {
    return Status::unavailable("sd_notify " + path + ": short send");
  }
  return Status::ok();
}

Status sdNotifyReady(std::string_view status) { return sdNotify(withStatus("READY=1", status)); }

Status sdNotifyStopping(std::string_view status) {
  return sdNotify(withStatus("STOPPING=1", status));
}

Status sdNotifyStatus(std::string_view status) { return sdNotify(statusLine(status)); }

Status sdNotifyWatchdog() { return sdNotify("WATCHDOG=1"); }

Status sdNotifyReloading(std::string_view status) {
  return sdNotify(withStatus("RELOADING=1", status));
}

std::chrono::microseconds sdWatchdogInterval() {
  const char* usec = std::getenv("WATCHDOG_USEC");  // NOLINT(concurrency-mt-unsafe)
  if (usec == nullptr || usec[0] == '\0') return std::chrono::microseconds(0);
  const char* pid = std::getenv("WATCHDOG_PID");  // NOLINT(concurrency-mt-unsafe)
  if (pid != nullptr && pid[0] != '\0') {
    char* end = nullptr;
    long value = std::strtol(pid, &end, 10);
    if (*end != '\0' || value != static_cast<long>(::getpid())) return std::chrono::microseconds(0);
  }
  char* end = nullptr;
  unsigned long long value = std::strtoull(usec, &end, 10);
  if (*end != '\0' || value == 0) return std::chrono::microseconds(0);
  return std::chrono::microseconds(static_cast<long long>(value / 2));
}

}  // namespace pharos
