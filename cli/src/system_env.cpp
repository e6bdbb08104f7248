// The real RunEnv of pharosctl: process environment, files, standard streams, the Paho link
// and a SIGINT/SIGTERM flag (the handler only sets it).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli/runner.h"
#include "pharos/log.h"

namespace pharos::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;  // set by the signal handler only

extern "C" void onSignal(int) { g_interrupted = 1; }

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::notFound(std::string(std::strerror(errno)));
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return Status::internal("read error");
  return s.str();
}

Status writePrivateFile(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::internal(std::strerror(errno));
  ::fchmod(fd, 0600);
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Status::internal(std::strerror(errno));
      ::close(fd);
      return s;
    }
    off += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Status::internal(std::strerror(errno));
  return Status::ok();
}

}  // namespace

RunEnv systemRunEnv() {
  // Library logs (the MQTT link's) go to stderr, errors only: stdout is for results.
  const char* level = std::getenv("PHAROS_LOG_LEVEL");
  setupLogging("pharosctl", level != nullptr ? level : "error");
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  RunEnv env;
  env.getenv = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  env.read_file = readFile;
  env.read_stdin = []() -> Result<std::string> {
    std::string s((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return s;
  };
  env.write_private_file = writePrivateFile;
  env.make_link = [](MqttOptions o) { return makePahoLink(std::move(o)); };
  env.now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  env.interrupted = [] { return g_interrupted != 0; };
  env.out = &std::cout;
  env.err = &std::cerr;
  env.stdout_is_tty = ::isatty(STDOUT_FILENO) == 1;
  return env;
}

}  // namespace pharos::cli
