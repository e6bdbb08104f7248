// Shared helpers of the Docker client integration tests (docker_client_itest.cpp and
// docker_client_resources_itest.cpp): environment, the test label, cleanup and small waits.
#pragma once

#include <arpa/inet.h>
#include <curl/curl.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "agent/docker_client.h"

namespace pharos_itest {

using namespace pharos;                // NOLINT(google-build-using-namespace): test code
using namespace pharos::agent;         // NOLINT(google-build-using-namespace): test code
using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace): test code

inline std::string env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before threads
  return v != nullptr ? v : fallback;
}

inline std::string runId() { return std::to_string(getpid()); }
inline std::string itestLabel() { return "io.pharos.itest=" + runId(); }
inline std::string name(const std::string& suffix) {
  return "pharos-itest-" + runId() + "-" + suffix;
}
inline std::string image() { return env("PHAROS_TEST_IMAGE", "pharos-test/busybox:1"); }

inline int freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

inline size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// GET http://127.0.0.1:<port>/ (loopback only); empty on failure.
inline std::string httpGet(int port) {
  CURL* h = curl_easy_init();
  std::string body;
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(h);
  curl_easy_cleanup(h);
  return rc == CURLE_OK ? body : std::string();
}

inline Json labels(const std::string& extra_key = "", const std::string& extra_value = "") {
  Json l = {{"io.pharos.itest", runId()}, {"com.docker.compose.project", "itest"}};
  if (!extra_key.empty()) l[extra_key] = extra_value;
  return l;
}

template <typename Pred>
inline bool eventually(Pred pred, std::chrono::milliseconds limit = 15s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return pred();
}

// An engine client; docker->containers, docker->images, ... reach its interfaces.
struct Engine {
  explicit Engine(const std::string& host) : engine(host), api(engine.api()) {}
  DockerApi* operator->() { return &api; }
  EngineDocker engine;
  DockerApi api;
};

// Removes everything this run created, whatever the test outcome.
struct Cleanup {
  Engine docker{env("DOCKER_HOST")};
  ~Cleanup() {
    if (auto list = docker->containers.listContainers({itestLabel()}); list.isOk()) {
      for (const auto& c : *list) (void)docker->containers.removeContainer(c.id, true, true);
    }
    if (auto list = docker->networks.listNetworks({itestLabel()}); list.isOk()) {
      for (const auto& n : *list) (void)docker->networks.removeNetwork(n.id);
    }
    if (auto list = docker->volumes.listVolumes({itestLabel()}); list.isOk()) {
      for (const auto& v : *list) (void)docker->volumes.removeVolume(v.name, true);
    }
  }
};

struct EventLog {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<DockerEvent> events;
  std::vector<Status> states;
  bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds limit = 15s) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, limit, pred);
  }
  EventCallback onEvent() {
    return [this](const DockerEvent& e) {
      std::lock_guard<std::mutex> lock(mu);
      events.push_back(e);
      cv.notify_all();
    };
  }
  EventStateCallback onState() {
    return [this](const Status& s) {
      std::lock_guard<std::mutex> lock(mu);
      states.push_back(s);
      cv.notify_all();
    };
  }
};

// A Unix-socket proxy in front of the engine: cut() drops every connection and stops
// listening, as a daemon restart does; restore() listens again. Lets the test restart
// "the engine" as the event stream sees it without touching the shared daemon.
class SocketProxy {
 public:
  SocketProxy(std::string upstream, std::string path)
      : upstream_(std::move(upstream)), path_(std::move(path)) {
    restore();
  }
  ~SocketProxy() {
    cut();
    ::unlink(path_.c_str());
  }
  std::string host() const { return "unix://" + path_; }

  void restore() {
    ::unlink(path_.c_str());
    listener_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    REQUIRE(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(listener_, 16) == 0);
    stopping_ = false;
    acceptor_ = std::thread([this] { acceptLoop(); });
  }

  void cut() {
    stopping_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listener_);
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : pumps_) t.join();
    pumps_.clear();
  }

 private:
  void acceptLoop() {
    while (!stopping_) {
      pollfd p{listener_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int client = accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      int server = socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", upstream_.c_str());
      if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(client);
        ::close(server);
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      pumps_.emplace_back([this, client, server] { pump(client, server); });
    }
  }

  // Copies both ways until either side closes or cut() is called.
  void pump(int a, int b) {
    char buf[16384];
    while (!stopping_) {
      pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
      if (poll(fds, 2, 50) <= 0) continue;
      bool closed = false;
      for (int i = 0; i < 2 && !closed; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n <= 0 || write(fds[1 - i].fd, buf, static_cast<size_t>(n)) != n) closed = true;
      }
      if (closed) break;
    }
    ::close(a);
    ::close(b);
  }

  std::string upstream_;
  std::string path_;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
};

}  // namespace pharos_itest
