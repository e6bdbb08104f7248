// httpCall (docker_http.h): one HTTP/1.1 exchange with the Docker Engine over its Unix
// socket, without a general-purpose HTTP library. One connection per exchange
// ("Connection: close"), so there is no pool to share: any thread may call it at once.
// The answer's body is framed by Content-Length, chunked transfer encoding, or the end of
// the connection. Waits are poll()s bounded by the exchange's deadline, its stall timeout and
// the request's wake fd (which ends a long stream at once, for stop()).
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "docker_http.h"

// `type var = *expr;` or return expr's error.
#define TRY_ASSIGN(type, var, expr)                       \
  auto var##_result = (expr);                             \
  if (!var##_result.isOk()) return var##_result.status(); \
  type var = std::move(*var##_result)

namespace pharos::agent {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kMaxBodyBytes = 64u << 20;  // collected bodies: engine documents
constexpr size_t kReadChunk = 16 * 1024;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool hasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// One exchange: connection, deadlines and the parser state.
class Exchange {
 public:
  Exchange(const std::string& socket_path, const HttpRequest& request)
      : socket_(socket_path), request_(request), start_(Clock::now()) {
    if (request.timeout.count() > 0) deadline_ = start_ + request.timeout;
  }

  Result<HttpResponse> run() {
    if (hasLineBreak(request_.path) || hasLineBreak(request_.method)) {
      return Status::invalidArgument("docker request: line break in the request line");
    }
    for (const auto& h : request_.headers) {
      if (hasLineBreak(h)) return Status::invalidArgument("docker request: line break in a header");
    }
    TRY_ASSIGN(int, fd, connectSocket());
    Fd conn(fd);
    PHAROS_RETURN_IF_ERROR(sendAll(conn.get(), requestText()));
    PHAROS_RETURN_IF_ERROR(readHeaders(conn.get()));
    PHAROS_RETURN_IF_ERROR(readBody(conn.get()));
    return std::move(response_);
  }

 private:
  enum class Wait { kReady, kTimedOut, kWoken };

  std::string where() const { return "docker engine at " + socket_; }

  Status unreachable(const std::string& what) const {
    return Status::unavailable(where() + " unreachable: " + what);
  }

  Status timedOut(const std::string& what) const {
    return Status::unavailable(where() + ": " + request_.method + " " + request_.path +
                               " timed out (" + what + ")");
  }

  std::string requestText() const {
    std::string text = request_.method + " " + request_.path + " HTTP/1.1\r\n";
    text += "Host: docker\r\nUser-Agent: pharos-agent\r\nConnection: close\r\n";
    for (const auto& h : request_.headers) text += h + "\r\n";
    if (request_.method == "POST" || request_.method == "PUT" || !request_.body.empty()) {
      text += "Content-Type: application/json\r\nContent-Length: " +
              std::to_string(request_.body.size()) + "\r\n";
    }
    text += "\r\n";
    text += request_.body;
    return text;
  }

  // poll() for `events` on fd (and the wake fd), bounded by the deadline and, when
  // `stall_from` is set, by the stall timeout counted from it.
  Wait wait(int fd, short events, std::optional<Clock::time_point> limit) const {
    while (true) {
      int timeout_ms = -1;
      if (limit) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*limit - Clock::now());
        if (left.count() <= 0) return Wait::kTimedOut;
        timeout_ms = static_cast<int>(std::min<int64_t>(left.count() + 1, 60'000));
      }
      pollfd fds[2] = {{fd, events, 0}, {request_.wake_fd, POLLIN, 0}};
      int n = ::poll(fds, request_.wake_fd >= 0 ? 2 : 1, timeout_ms);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Wait::kReady;  // the read/write that follows reports the error
      }
      if (request_.wake_fd >= 0 && (fds[1].revents & POLLIN) != 0) return Wait::kWoken;
      if (n > 0 && fds[0].revents != 0) return Wait::kReady;
    }
  }

  std::optional<Clock::time_point> limitFor(Clock::time_point last_byte, bool stall = false) const {
    std::optional<Clock::time_point> limit = deadline_;
    if (stall && request_.low_speed_time_s > 0) {
      auto s = last_byte + std::chrono::seconds(request_.low_speed_time_s);
      if (!limit || s < *limit) limit = s;
    }
    return limit;
  }

  Result<int> connectSocket() {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_.empty() || socket_.size() >= sizeof(addr.sun_path)) {
      return unreachable("bad socket path");
    }
    std::memcpy(addr.sun_path, socket_.data(), socket_.size());
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return unreachable(std::string("socket: ") + std::strerror(errno));
    auto connect_limit = start_ + request_.connect_timeout;
    if (deadline_ && *deadline_ < connect_limit) connect_limit = *deadline_;
    while (true) {
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EINPROGRESS) {  // the listener's backlog is full
        if (Clock::now() >= connect_limit) {
          ::close(fd);
          return unreachable("connect timed out");
        }
        ::usleep(5000);
        continue;
      }
      ::close(fd);
      return unreachable(std::string("connect: ") + std::strerror(err));
    }
  }

  Status sendAll(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        Wait w = wait(fd, POLLOUT, deadline_);
        if (w == Wait::kTimedOut) return timedOut("sending the request");
        if (w == Wait::kWoken) return Status::unavailable("docker request stopped");
        continue;
      }
      return unreachable(std::string("send: ") + std::strerror(errno));
    }
    return Status::ok();
  }

  // Reads more bytes into in_; 0 at the end of the connection.
  Result<size_t> readSome(int fd) {
    char buf[kReadChunk];
    while (true) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        in_.append(buf, static_cast<size_t>(n));
        last_byte_ = Clock::now();
        return static_cast<size_t>(n);
      }
      if (n == 0) return size_t{0};
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return unreachable(std::string("recv: ") + std::strerror(errno));
      }
      Wait w = wait(fd, POLLIN, limitFor(last_byte_, true));
      if (w == Wait::kWoken) return Status::unavailable("docker request stopped");
      if (w == Wait::kTimedOut) {
        bool stalled = !deadline_ || Clock::now() < *deadline_;
        return timedOut(stalled ? "no data for " + std::to_string(request_.low_speed_time_s) + " s"
                                : "deadline");
      }
    }
  }

  Status readHeaders(int fd) {
    last_byte_ = Clock::now();
    while (true) {
      size_t end = in_.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (in_.size() > kMaxHeaderBytes)
          return Status::internal("docker answer: headers too long");
        TRY_ASSIGN(size_t, n, readSome(fd));
        if (n == 0) return unreachable("the engine closed the connection before answering");
        continue;
      }
      std::string head = in_.substr(0, end);
      in_.erase(0, end + 4);
      PHAROS_RETURN_IF_ERROR(parseHead(head));
      // 1xx interim answers (100 Continue) precede the real one.
      if (response_.status >= 100 && response_.status < 200) continue;
      if (request_.on_status) request_.on_status(response_.status);
      return Status::ok();
    }
  }

  Status parseHead(const std::string& head) {
    size_t eol = head.find("\r\n");
    std::string_view status_line = std::string_view(head).substr(0, eol);
    // "HTTP/1.1 200 OK"
    if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12 || status_line[8] != ' ') {
      return Status::internal("docker answer: bad status line");
    }
    long code = 0;
    for (size_t i = 9; i < 12; ++i) {
      char c = status_line[i];
      if (c < '0' || c > '9') return Status::internal("docker answer: bad status code");
      code = code * 10 + (c - '0');
    }
    response_.status = code;
    chunked_ = false;
    content_length_.reset();
    size_t pos = eol == std::string::npos ? head.size() : eol + 2;
    while (pos < head.size()) {
      size_t next = head.find("\r\n", pos);
      if (next == std::string::npos) next = head.size();
      std::string_view line = std::string_view(head).substr(pos, next - pos);
      pos = next + 2;
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name = lower(trim(line.substr(0, colon)));
      std::string_view value = trim(line.substr(colon + 1));
      if (name == "transfer-encoding") {
        chunked_ = lower(value).find("chunked") != std::string::npos;
      } else if (name == "content-length") {
        uint64_t n = 0;
        if (value.empty() || value.size() > 18) {
          return Status::internal("docker answer: bad Content-Length");
        }
        for (char c : value) {
          if (c < '0' || c > '9') return Status::internal("docker answer: bad Content-Length");
          n = n * 10 + static_cast<uint64_t>(c - '0');
        }
        content_length_ = n;
      }
    }
    return Status::ok();
  }

  // Hands body bytes to the streaming reader (2xx) or collects them.
  Status deliver(std::string_view data) {
    if (data.empty()) return Status::ok();
    bool ok_answer = response_.status >= 200 && response_.status < 300;
    if (request_.on_data && ok_answer) {
      if (!request_.on_data(data)) {
        return Status::internal("docker engine stream aborted by the reader");
      }
      return Status::ok();
    }
    if (response_.body.size() + data.size() > kMaxBodyBytes) {
      return Status::internal("docker answer larger than 64 MiB");
    }
    response_.body.append(data);
    return Status::ok();
  }

  Status readBody(int fd) {
    long code = response_.status;
    if (request_.method == "HEAD" || code == 204 || code == 304) return Status::ok();
    if (chunked_) return readChunked(fd);
    if (content_length_) {
      uint64_t left = *content_length_;
      while (true) {
        size_t take = static_cast<size_t>(std::min<uint64_t>(left, in_.size()));
        PHAROS_RETURN_IF_ERROR(deliver(std::string_view(in_).substr(0, take)));
        in_.erase(0, take);
        left -= take;
        if (left == 0) return Status::ok();
        TRY_ASSIGN(size_t, n, readSome(fd));
        if (n == 0) return unreachable("the engine closed the connection mid-answer");
      }
    }
    while (true) {  // no framing: the body ends with the connection
      PHAROS_RETURN_IF_ERROR(deliver(in_));
      in_.clear();
      TRY_ASSIGN(size_t, n, readSome(fd));
      if (n == 0) return Status::ok();
    }
  }

  // Waits until in_ holds a CRLF-terminated line; returns it without CRLF and consumes it.
  Result<std::string> line(int fd) {
    while (true) {
      size_t eol = in_.find("\r\n");
      if (eol != std::string::npos) {
        std::string text = in_.substr(0, eol);
        in_.erase(0, eol + 2);
        return text;
      }
      if (in_.size() > kMaxHeaderBytes) return Status::internal("docker answer: bad chunk line");
      TRY_ASSIGN(size_t, n, readSome(fd));
      if (n == 0) return unreachable("the engine closed the connection mid-answer");
    }
  }

  Status readChunked(int fd) {
    while (true) {
      TRY_ASSIGN(std::string, size_line, line(fd));
      std::string_view hex = trim(std::string_view(size_line).substr(0, size_line.find(';')));
      if (hex.empty() || hex.size() > 15) return Status::internal("docker answer: bad chunk size");
      uint64_t size = 0;
      for (char c : hex) {
        int digit = (c >= '0' && c <= '9')   ? c - '0'
                    : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                    : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                             : -1;
        if (digit < 0) return Status::internal("docker answer: bad chunk size");
        size = size * 16 + static_cast<uint64_t>(digit);
      }
      if (size == 0) {  // trailers, then the blank line
        while (true) {
          TRY_ASSIGN(std::string, trailer, line(fd));
          if (trailer.empty()) return Status::ok();
        }
      }
      uint64_t left = size;
      while (left > 0) {
        if (in_.empty()) {
          TRY_ASSIGN(size_t, n, readSome(fd));
          if (n == 0) return unreachable("the engine closed the connection mid-answer");
        }
        size_t take = static_cast<size_t>(std::min<uint64_t>(left, in_.size()));
        PHAROS_RETURN_IF_ERROR(deliver(std::string_view(in_).substr(0, take)));
        in_.erase(0, take);
        left -= take;
      }
      TRY_ASSIGN(std::string, crlf, line(fd));
      if (!crlf.empty()) return Status::internal("docker answer: bad chunk end");
    }
  }

  const std::string& socket_;
  const HttpRequest& request_;
  const Clock::time_point start_;
  std::optional<Clock::time_point> deadline_;
  Clock::time_point last_byte_{};
  HttpResponse response_;
  std::string in_;  // received, not yet consumed
  bool chunked_ = false;
  std::optional<uint64_t> content_length_;
};

}  // namespace

Result<HttpResponse> httpCall(const std::string& socket_path, const HttpRequest& request) {
  return Exchange(socket_path, request).run();
}

}  // namespace pharos::agent
