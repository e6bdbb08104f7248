// Unit tests of the sd_notify client (sd_notify.h) against a real datagram socket standing
// in for systemd: a bound path socket and an abstract one. The tests set NOTIFY_SOCKET and
// WATCHDOG_* in this process's environment and restore them.
#include "pharos/sd_notify.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

namespace pharos {
namespace {

// Sets an environment variable for the scope and restores the previous value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A datagram socket bound to `address` ('@' = abstract), like systemd's notify socket.
class FakeSystemd {
 public:
  explicit FakeSystemd(const std::string& address) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, address.data(), address.size());
    if (address[0] == '@') addr.sun_path[0] = '\0';
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~FakeSystemd() { ::close(fd_); }
  std::string receive() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    return n < 0 ? std::string("<nothing>") : std::string(buf, static_cast<size_t>(n));
  }

 private:
  int fd_ = -1;
};

std::string tempSocketPath() {
  return (std::filesystem::temp_directory_path() /
          ("pharos-notify-" + std::to_string(::getpid()) + ".sock"))
      .string();
}

TEST_CASE("every notification is a no-op that succeeds when NOTIFY_SOCKET is unset") {
  ScopedEnv env("NOTIFY_SOCKET", nullptr);
  CHECK_FALSE(sdNotifyEnabled());
  CHECK(sdNotifyReady("serving").isOk());
  CHECK(sdNotifyStopping().isOk());
  CHECK(sdNotifyStatus("x").isOk());
  CHECK(sdNotifyWatchdog().isOk());
}

TEST_CASE("sends READY=1 with a status line to a path socket") {
  std::string path = tempSocketPath();
  std::filesystem::remove(path);
  FakeSystemd systemd(path);
  ScopedEnv env("NOTIFY_SOCKET", path.c_str());
  CHECK(sdNotifyEnabled());
  REQUIRE(sdNotifyReady("connected to tcp://127.0.0.1:1883").isOk());
  CHECK(systemd.receive() == "READY=1\nSTATUS=connected to tcp://127.0.0.1:1883");
  REQUIRE(sdNotifyStopping().isOk());
  CHECK(systemd.receive() == "STOPPING=1");
  REQUIRE(sdNotifyWatchdog().isOk());
  CHECK(systemd.receive() == "WATCHDOG=1");
  REQUIRE(sdNotifyReloading("reloading").isOk());
  CHECK(systemd.receive() == "RELOADING=1\nSTATUS=reloading");
  std::filesystem::remove(path);
}

TEST_CASE("a status text cannot inject a second assignment through a newline") {
  std::string path = tempSocketPath();
  std::filesystem::remove(path);
  FakeSystemd systemd(path);
  ScopedEnv env("NOTIFY_SOCKET", path.c_str());
  REQUIRE(sdNotifyStatus("broker lost\nREADY=1").isOk());
  CHECK(systemd.receive() == "STATUS=broker lost READY=1");
  std::filesystem::remove(path);
}

TEST_CASE("reaches an abstract socket named with a leading @") {
  std::string name = "@pharos-notify-test-" + std::to_string(::getpid());
  FakeSystemd systemd(name);
  ScopedEnv env("NOTIFY_SOCKET", name.c_str());
  REQUIRE(sdNotifyReady().isOk());
  CHECK(systemd.receive() == "READY=1");
}

TEST_CASE("reports an unreachable or malformed socket instead of failing silently") {
  {
    ScopedEnv env("NOTIFY_SOCKET", "/nonexistent/pharos/notify.sock");
    Status st = sdNotifyReady();
    CHECK(st.code() == Code::kUnavailable);
  }
  {
    ScopedEnv env("NOTIFY_SOCKET", "relative.sock");
    CHECK(sdNotifyReady().code() == Code::kInvalidArgument);
  }
  {
    std::string long_path = "/" + std::string(200, 'a');
    ScopedEnv env("NOTIFY_SOCKET", long_path.c_str());
    CHECK(sdNotifyReady().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("the watchdog interval is half of WATCHDOG_USEC, and only for this process") {
  {
    ScopedEnv usec("WATCHDOG_USEC", nullptr);
    CHECK(sdWatchdogInterval().count() == 0);
  }
  {
    ScopedEnv usec("WATCHDOG_USEC", "20000000");
    ScopedEnv pid("WATCHDOG_PID", nullptr);
    CHECK(sdWatchdogInterval() == std::chrono::seconds(10));
  }
  {
    std::string self = std::to_string(::getpid());
    ScopedEnv usec("WATCHDOG_USEC", "4000000");
    ScopedEnv pid("WATCHDOG_PID", self.c_str());
    CHECK(sdWatchdogInterval() == std::chrono::seconds(2));
  }
  {
    ScopedEnv usec("WATCHDOG_USEC", "4000000");
    ScopedEnv pid("WATCHDOG_PID", "1");
    CHECK(sdWatchdogInterval().count() == 0);
  }
  {
    ScopedEnv usec("WATCHDOG_USEC", "soon");
    CHECK(sdWatchdogInterval().count() == 0);
  }
}

}  // namespace
}  // namespace pharos
