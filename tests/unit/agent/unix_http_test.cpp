// httpCall (agent/src/unix_http.cpp) against a scripted server on a Unix socket: each test's
// server accepts one connection, records the request, and writes the answer in the pieces
// given (so framing split at every awkward place is covered), then closes or holds the
// connection open.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "docker_http.h"

namespace pharos::agent {
namespace {

using std::chrono::milliseconds;

class ScriptedServer {
 public:
  // `pieces` are written one by one (a short pause between them); then the connection
  // closes unless hold_open (it then stays open until the server is destroyed).
  explicit ScriptedServer(std::vector<std::string> pieces, bool hold_open = false)
      : pieces_(std::move(pieces)), hold_open_(hold_open) {
    char tmpl[] = "/tmp/pharos-http-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/s.sock";
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_fd_, 4) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    done_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string request() {
    while (!served_) std::this_thread::sleep_for(milliseconds(1));
    return request_;
  }

 private:
  void serve() {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) {
      served_ = true;
      return;
    }
    std::string got;
    char buf[4096];
    while (true) {
      size_t end = got.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t cl = got.find("Content-Length: ");
        size_t want =
            cl == std::string::npos ? 0 : std::strtoul(got.c_str() + cl + 16, nullptr, 10);
        if (got.size() >= end + 4 + want) break;
      }
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    request_ = got;
    served_ = true;
    for (const auto& piece : pieces_) {
      (void)!::send(fd, piece.data(), piece.size(), MSG_NOSIGNAL);  // the client may be gone
      std::this_thread::sleep_for(milliseconds(5));
    }
    while (hold_open_ && !done_) std::this_thread::sleep_for(milliseconds(5));
    ::close(fd);
  }

  std::vector<std::string> pieces_;
  bool hold_open_;
  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  std::string request_;
  std::atomic<bool> served_{false};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

HttpRequest get(std::string path) {
  HttpRequest r;
  r.path = std::move(path);
  r.timeout = milliseconds(5000);
  return r;
}

TEST_CASE("a Content-Length answer split inside the head and the body is read whole") {
  ScriptedServer server({"HTTP/1.1 200 OK\r\nContent-Le", "ngth: 11\r\n\r\nhello", " world"});
  auto r = httpCall(server.path(), get("/v1.41/_ping"));
  REQUIRE(r.isOk());
  CHECK(r->status == 200);
  CHECK(r->body == "hello world");
  std::string req = server.request();
  CHECK(req.rfind("GET /v1.41/_ping HTTP/1.1\r\n", 0) == 0);
  CHECK(req.find("Connection: close\r\n") != std::string::npos);
}

TEST_CASE("a chunked answer with chunk sizes, extensions and trailers split anywhere") {
  ScriptedServer server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r", "\nab",
                         "cde\r\nA;ext=1\r\n0123456789\r\n", "0\r\nX-Trailer: t\r\n", "\r\n"});
  auto r = httpCall(server.path(), get("/x"));
  REQUIRE(r.isOk());
  CHECK(r->body == "abcde0123456789");
}

TEST_CASE("a 2xx stream goes to on_data as it arrives, an error answer is collected") {
  ScriptedServer server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "4\r\nab\nc\r\n",
                         "2\r\nd\n\r\n", "0\r\n\r\n"});
  HttpRequest req = get("/events");
  std::string streamed;
  long seen_status = 0;
  req.on_status = [&](long code) { seen_status = code; };
  req.on_data = [&](std::string_view d) {
    streamed.append(d);
    return true;
  };
  auto r = httpCall(server.path(), req);
  REQUIRE(r.isOk());
  CHECK(seen_status == 200);
  CHECK(streamed == "ab\ncd\n");
  CHECK(r->body.empty());

  ScriptedServer failing(
      {"HTTP/1.1 404 Not Found\r\nContent-Length: 22\r\n\r\n", "{\"message\":\"no such\"}\n"});
  streamed.clear();
  auto e = httpCall(failing.path(), req);
  REQUIRE(e.isOk());
  CHECK(e->status == 404);
  CHECK(streamed.empty());
  CHECK(engineError(e->status, e->body).message() == "no such");
}

TEST_CASE("an answer without framing ends with the connection; 1xx answers are skipped") {
  ScriptedServer server({"HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.0 200 OK\r\n\r\nall ", "of it"});
  auto r = httpCall(server.path(), get("/x"));
  REQUIRE(r.isOk());
  CHECK(r->status == 200);
  CHECK(r->body == "all of it");
}

TEST_CASE("a POST carries its JSON body with Content-Type and Content-Length") {
  ScriptedServer server({"HTTP/1.1 204 No Content\r\n\r\n"});
  HttpRequest req = get("/containers/abc/start");
  req.method = "POST";
  req.body = "{\"a\":1}";
  req.headers.push_back("X-Registry-Auth: e30=");
  auto r = httpCall(server.path(), req);
  REQUIRE(r.isOk());
  CHECK(r->status == 204);
  std::string sent = server.request();
  CHECK(sent.find("Content-Type: application/json\r\n") != std::string::npos);
  CHECK(sent.find("Content-Length: 7\r\n") != std::string::npos);
  CHECK(sent.find("X-Registry-Auth: e30=\r\n") != std::string::npos);
  CHECK(sent.substr(sent.size() - 7) == "{\"a\":1}");
}

TEST_CASE("a connection closed mid-answer, a missing socket and a bad head are errors") {
  {
    ScriptedServer server({"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"});
    auto r = httpCall(server.path(), get("/x"));
    CHECK(r.status().code() == Code::kUnavailable);
  }
  {
    ScriptedServer server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"});
    CHECK(httpCall(server.path(), get("/x")).status().code() == Code::kInternal);
  }
  {
    ScriptedServer server({"SSH-2.0-nope\r\n\r\n"});
    CHECK(httpCall(server.path(), get("/x")).status().code() == Code::kInternal);
  }
  auto r = httpCall("/nonexistent/pharos/docker.sock", get("/x"));
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message().find("unreachable") != std::string::npos);
  HttpRequest injected = get("/x HTTP/1.1\r\nX-Evil: 1");
  CHECK(httpCall("/nonexistent", injected).status().code() == Code::kInvalidArgument);
}

TEST_CASE("the deadline, the stall timeout and the wake fd end a silent exchange") {
  {
    ScriptedServer server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"}, true);
    HttpRequest req = get("/x");
    req.timeout = milliseconds(200);
    auto r = httpCall(server.path(), req);
    CHECK(r.status().code() == Code::kUnavailable);
    CHECK(r.status().message().find("timed out") != std::string::npos);
  }
  {
    ScriptedServer server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"}, true);
    HttpRequest req = get("/images/create");
    req.timeout = milliseconds(0);
    req.low_speed_time_s = 1;
    auto start = std::chrono::steady_clock::now();
    auto r = httpCall(server.path(), req);
    CHECK(r.status().code() == Code::kUnavailable);
    CHECK(r.status().message().find("no data for 1 s") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - start >= milliseconds(900));
  }
  {
    ScriptedServer server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"}, true);
    int wake[2];
    REQUIRE(::pipe(wake) == 0);
    HttpRequest req = get("/events");
    req.timeout = milliseconds(0);
    req.wake_fd = wake[0];
    req.on_data = [](std::string_view) { return true; };
    std::thread stopper([&] {
      std::this_thread::sleep_for(milliseconds(50));
      (void)!::write(wake[1], "x", 1);
    });
    auto r = httpCall(server.path(), req);
    stopper.join();
    CHECK(r.status().code() == Code::kUnavailable);
    ::close(wake[0]);
    ::close(wake[1]);
  }
}

TEST_CASE("a reader that returns false aborts the stream") {
  ScriptedServer server({"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc", "def"});
  HttpRequest req = get("/x");
  req.on_data = [](std::string_view) { return false; };
  auto r = httpCall(server.path(), req);
  CHECK(r.status().code() == Code::kInternal);
  CHECK(r.status().message().find("aborted by the reader") != std::string::npos);
}

}  // namespace
}  // namespace pharos::agent
