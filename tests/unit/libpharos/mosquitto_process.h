// Test support for the Paho link tests: a real mosquitto process on a free loopback port
// (MosquittoProcess: temporary config and directory, started with /usr/sbin/mosquitto — a
// declared dependency, so a missing binary FAILS the test — and stopped with SIGTERM; it
// also dies with the test process), a thread-safe Recorder of link callbacks, and polling
// helpers. Header-only: tests/CMakeLists.txt compiles only *_test.cpp files.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pharos/mqtt_link.h"

#define REQUIRE_OK(expr)                                 \
  do {                                                   \
    ::pharos::Status status_ = (expr);                   \
    REQUIRE_MESSAGE(status_.isOk(), status_.toString()); \
  } while (0)

namespace pharos_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pharos::Code;
using pharos::MqttLink;
using pharos::MqttMessage;
using pharos::MqttOptions;

constexpr const char* kMosquitto = "/usr/sbin/mosquitto";
constexpr const char* kWillChildEnv = "PHAROS_PAHO_WILL_CHILD_PORT";

inline int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline bool portOpen(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

inline bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// A mosquitto process on a free loopback port with a temporary directory.
class MosquittoProcess {
 public:
  explicit MosquittoProcess(std::string extra_config = "allow_anonymous true\n")
      : extra_config_(std::move(extra_config)), port_(freePort()) {
    char tmpl[] = "/tmp/pharos-paho-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);
  }
  ~MosquittoProcess() {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  MosquittoProcess(const MosquittoProcess&) = delete;
  MosquittoProcess& operator=(const MosquittoProcess&) = delete;

  int port() const { return port_; }
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  const fs::path& dir() const { return dir_; }

  void start() {
    REQUIRE_MESSAGE(fs::exists(kMosquitto), kMosquitto << " is missing: install mosquitto");
    fs::path conf = dir_ / "mosquitto.conf";
    {
      std::ofstream out(conf);
      out << "per_listener_settings false\n"
          << "listener " << port_ << " 127.0.0.1\n"
          << "persistence false\n"
          << "log_dest stderr\n"
          << "log_type error\nlog_type warning\nlog_type notice\n"
          << (::geteuid() == 0 ? "user root\n" : "") << extra_config_;
    }
    fs::path log = dir_ / "mosquitto.log";
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // The broker dies with the test process even when a crash skips the destructor.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execl(kMosquitto, kMosquitto, "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    bool up = waitFor([&] { return portOpen(port_) || exited(); }, 10s) && !exited();
    REQUIRE_MESSAGE(up, "mosquitto did not start; log: " << readLog());
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // Sends `sig` to the broker (SIGSTOP/SIGCONT: a broker that stops answering for a while).
  void signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  std::string readLog() const {
    std::ifstream in(dir_ / "mosquitto.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  bool exited() {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return pid_ <= 0;
  }

  std::string extra_config_;
  int port_;
  fs::path dir_;
  pid_t pid_ = -1;
};

// Thread-safe record of what a link's callbacks saw. The record is shared with the link's
// handlers, so a Recorder declared after its link (destroyed first) is safe: messages still
// arriving while the test unwinds land in the shared record, not in freed memory.
class Recorder {
 public:
  void attach(MqttLink& link) {
    link.onMessage([state = state_](const MqttMessage& m) {
      std::lock_guard lock(state->mu);
      state->messages.push_back(m);
    });
    link.onConnection([state = state_](bool up) {
      std::lock_guard lock(state->mu);
      state->connections.push_back(up);
    });
  }
  std::vector<MqttMessage> messages() const {
    std::lock_guard lock(state_->mu);
    return state_->messages;
  }
  std::vector<bool> connections() const {
    std::lock_guard lock(state_->mu);
    return state_->connections;
  }
  bool waitMessage(const std::string& topic, const std::string& payload,
                   std::chrono::milliseconds timeout = 5s) const {
    return waitFor(
        [&] {
          for (const auto& m : messages()) {
            if (m.topic == topic && m.payload == payload) return true;
          }
          return false;
        },
        timeout);
  }
  std::optional<MqttMessage> find(const std::string& topic) const {
    for (const auto& m : messages()) {
      if (m.topic == topic) return m;
    }
    return std::nullopt;
  }

 private:
  struct State {
    std::mutex mu;
    std::vector<MqttMessage> messages;
    std::vector<bool> connections;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// A listening loopback socket nobody accepts: a TCP connect succeeds (the kernel's backlog
// takes it), the CONNACK never comes.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(fd_, 64) == 0);
    socklen_t len = sizeof(addr);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

inline MqttOptions options(const MosquittoProcess& broker, std::string client_id) {
  MqttOptions o;
  o.url = broker.url();
  o.client_id = std::move(client_id);
  o.reconnect_min = 50ms;
  o.reconnect_max = 400ms;
  o.connect_timeout = 3000ms;
  return o;
}

inline MqttMessage message(std::string topic, std::string payload, bool retained = false) {
  MqttMessage m;
  m.topic = std::move(topic);
  m.payload = std::move(payload);
  m.retained = retained;
  return m;
}

}  // namespace pharos_test
