// TCP_NODELAY on the sockets of a library (tcp_nodelay.h): walks /proc/self/fd, keeps the
// TCP sockets whose peer port matches and sets the option where it is still off.
#include "pharos/tcp_nodelay.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdlib>

namespace pharos {

std::optional<uint16_t> mqttUrlPort(const std::string& url) {
  auto sep = url.find("://");
  if (sep == std::string::npos) return std::nullopt;
  std::string scheme = url.substr(0, sep);
  std::string host = url.substr(sep + 3);
  host = host.substr(0, host.find('/'));
  if (host.empty()) return std::nullopt;
  auto colon = host.rfind(':');
  bool bracketed = host.find(']') != std::string::npos;
  if (colon != std::string::npos && (!bracketed || colon > host.rfind(']'))) {
    std::string digits = host.substr(colon + 1);
    if (digits.empty() || digits.size() > 5 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    long port = std::strtol(digits.c_str(), nullptr, 10);
    if (port < 1 || port > 65535) return std::nullopt;
    return static_cast<uint16_t>(port);
  }
  if (scheme == "tcp" || scheme == "mqtt") return 1883;
  if (scheme == "ssl" || scheme == "mqtts") return 8883;
  if (scheme == "ws") return 80;
  if (scheme == "wss") return 443;
  return std::nullopt;
}

int setTcpNoDelayToPort(uint16_t peer_port) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return 0;
  int own = dirfd(dir);
  int changed = 0;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == own) continue;
    int on = 0;
    socklen_t len = sizeof(on);
    // Fails at once for anything but a TCP socket.
    if (getsockopt(static_cast<int>(fd), IPPROTO_TCP, TCP_NODELAY, &on, &len) != 0 || on) {
      continue;
    }
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof(peer);
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
      continue;
    }
    uint16_t port = 0;
    if (peer.ss_family == AF_INET) {
      port = ntohs(reinterpret_cast<const sockaddr_in*>(&peer)->sin_port);
    } else if (peer.ss_family == AF_INET6) {
      port = ntohs(reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_port);
    }
    if (port != peer_port) continue;
    on = 1;
    if (setsockopt(static_cast<int>(fd), IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0) {
      ++changed;
    }
  }
  closedir(dir);
  return changed;
}

}  // namespace pharos
