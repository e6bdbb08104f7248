// Integration test of the libcurl DockerClient against a REAL Docker Engine. Not a plain
// ctest test: tests/integration/test_docker_client.py runs it with the pytest fixtures'
// engine and registry. Environment:
//   DOCKER_HOST            unix:///... of the engine (required)
//   PHAROS_TEST_REGISTRY   127.0.0.1:<port> of a local registry holding pharos-test/busybox:1
//   PHAROS_TEST_IMAGE      a local busybox test image (default pharos-test/busybox:1)
// Everything it creates carries the label io.pharos.itest=<pid> and is removed at the end.
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

using namespace pharos;
using namespace pharos::agent;
using namespace std::chrono_literals;

namespace {

std::string env(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before threads
  return v != nullptr ? v : fallback;
}

std::string runId() { return std::to_string(getpid()); }
std::string itestLabel() { return "io.pharos.itest=" + runId(); }
std::string name(const std::string& suffix) { return "pharos-itest-" + runId() + "-" + suffix; }
std::string image() { return env("PHAROS_TEST_IMAGE", "pharos-test/busybox:1"); }

int freePort() {
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

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// GET http://127.0.0.1:<port>/ (loopback only); empty on failure.
std::string httpGet(int port) {
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

Json labels(const std::string& extra_key = "", const std::string& extra_value = "") {
  Json l = {{"io.pharos.itest", runId()}, {"com.docker.compose.project", "itest"}};
  if (!extra_key.empty()) l[extra_key] = extra_value;
  return l;
}

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 15s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return pred();
}

// Removes everything this run created, whatever the test outcome.
struct Cleanup {
  std::unique_ptr<DockerClient> docker = makeCurlDockerClient(env("DOCKER_HOST"));
  ~Cleanup() {
    if (auto list = docker->listContainers({itestLabel()}); list.isOk()) {
      for (const auto& c : *list) (void)docker->removeContainer(c.id, true, true);
    }
    if (auto list = docker->listNetworks({itestLabel()}); list.isOk()) {
      for (const auto& n : *list) (void)docker->removeNetwork(n.id);
    }
    if (auto list = docker->listVolumes({itestLabel()}); list.isOk()) {
      for (const auto& v : *list) (void)docker->removeVolume(v.name, true);
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

}  // namespace

TEST_CASE("DOCKER_HOST is set") { REQUIRE_MESSAGE(!env("DOCKER_HOST").empty(), "set DOCKER_HOST"); }

TEST_CASE("negotiates the API version and reads the engine facts") {
  auto docker = makeCurlDockerClient(env("DOCKER_HOST"));
  REQUIRE(docker->ping().isOk());
  auto v = docker->version();
  REQUIRE_MESSAGE(v.isOk(), v.status().toString());
  CHECK(!v->version.empty());
  CHECK(v->os == "linux");
  CHECK(!v->kernel_version.empty());
  CHECK(!v->engine_api_version.empty());
  // min(engine, 1.41): Debian 12's 20.10 speaks exactly 1.41.
  if (v->engine_api_version >= std::string("1.41")) CHECK(v->api_version == "1.41");
  auto info = docker->info();
  REQUIRE(info.isOk());
  CHECK((*info)["NCPU"].get<int>() >= 1);
}

TEST_CASE("an unreachable engine is unavailable, and its event stream stops promptly") {
  auto docker = makeCurlDockerClient("unix:///nonexistent/docker.sock");
  CHECK(docker->ping().code() == Code::kUnavailable);
  CHECK(docker->listContainers({}).status().code() == Code::kUnavailable);
  CHECK(makeCurlDockerClient("tcp://127.0.0.1:2375")->ping().code() == Code::kInvalidArgument);
  EventLog log;
  auto stream = docker->watchEvents({}, log.onEvent(), log.onState());
  REQUIRE(log.waitFor([&] { return !log.states.empty(); }, 5s));
  CHECK(log.states.front().code() == Code::kUnavailable);
  auto t0 = std::chrono::steady_clock::now();
  stream->stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
}

TEST_CASE("pulls from the local registry and reports a missing image with the engine's words") {
  std::string registry = env("PHAROS_TEST_REGISTRY");
  if (registry.empty()) {
    MESSAGE("PHAROS_TEST_REGISTRY not set: pull test skipped");
    return;
  }
  auto docker = makeCurlDockerClient(env("DOCKER_HOST"));
  std::string ref = registry + "/pharos-test/busybox:1";
  Status removed = docker->removeImage(ref, true);
  CHECK((removed.isOk() || removed.code() == Code::kNotFound));
  CHECK(docker->inspectImage(ref).status().code() == Code::kNotFound);
  Status pulled = docker->pullImage(ref);
  REQUIRE_MESSAGE(pulled.isOk(), pulled.toString());
  auto info = docker->inspectImage(ref);
  REQUIRE(info.isOk());
  CHECK(info->id.rfind("sha256:", 0) == 0);
  CHECK(info->labels.at("io.pharos.test.version") == "1");
  CHECK(!info->repo_digests.empty());
  auto listed = docker->listImages(ref);
  REQUIRE(listed.isOk());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().id == info->id);
  auto repo = docker->listImages(registry + "/pharos-test/busybox");  // every tag
  REQUIRE(repo.isOk());
  CHECK(std::any_of(repo->begin(), repo->end(),
                    [&](const ImageInfo& i) { return i.id == info->id; }));

  // Credentials travel as X-Registry-Auth; this registry has no auth and ignores them.
  CHECK(docker->pullImage(ref, RegistryAuth{"user", "secret", ""}).isOk());

  Status missing = docker->pullImage(registry + "/pharos-test/busybox:nope");
  CHECK(missing.code() == Code::kNotFound);
  CHECK(missing.message().find("manifest unknown") != std::string::npos);
  Status down = docker->pullImage("127.0.0.1:1/pharos-test/busybox:1");
  CHECK(!down.isOk());
  CHECK(down.message().find("127.0.0.1:1") != std::string::npos);
}

TEST_CASE("creates, starts, inspects and removes a container with ports, mounts, healthcheck") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  int port = freePort();
  Json body = {{"Image", image()},
               {"Cmd", {"httpd", "-f", "-p", "80", "-h", "/www"}},
               {"Labels", labels("io.pharos.config-hash", "abc")},
               {"ExposedPorts", {{"80/tcp", Json::object()}}},
               {"Healthcheck",
                {{"Test", {"CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"}},
                 {"Interval", 500'000'000},
                 {"Timeout", 2'000'000'000},
                 {"Retries", 3}}},
               {"StopTimeout", 1},
               {"HostConfig",
                {{"PortBindings",
                  {{"80/tcp", {{{"HostIp", "127.0.0.1"}, {"HostPort", std::to_string(port)}}}}}},
                 {"RestartPolicy", {{"Name", "unless-stopped"}, {"MaximumRetryCount", 0}}},
                 {"Mounts",
                  {{{"Type", "volume"}, {"Source", name("data")}, {"Target", "/data"}},
                   {{"Type", "tmpfs"}, {"Target", "/scratch"}}}},
                 {"Ulimits", {{{"Name", "nofile"}, {"Soft", 1024}, {"Hard", 2048}}}}}}};
  auto id = docker->createContainer(name("web"), body);
  REQUIRE_MESSAGE(id.isOk(), id.status().toString());
  auto dup = docker->createContainer(name("web"), body);
  CHECK(dup.status().code() == Code::kAlreadyExists);
  CHECK(dup.status().message().find("is already in use") != std::string::npos);

  auto created = docker->inspectContainer(*id);
  REQUIRE(created.isOk());
  CHECK(created->state == "created");
  CHECK(created->name == name("web"));
  CHECK(created->image == image());
  CHECK(created->labels.at("io.pharos.config-hash") == "abc");
  CHECK(created->labels.at("io.pharos.test.version") == "1");  // from the image
  CHECK(created->raw["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped");

  REQUIRE(docker->startContainer(*id).isOk());
  CHECK(docker->startContainer(*id).isOk());  // 304 is ok
  auto running = docker->inspectContainer(name("web"));
  REQUIRE(running.isOk());
  CHECK(running->running);
  CHECK(running->state == "running");
  CHECK(running->image_id == docker->inspectImage(image())->id);
  CHECK(eventually([&] { return httpGet(port) == "pharos test image\n"; }));
  CHECK(eventually([&] { return docker->inspectContainer(*id)->health == "healthy"; }));
  CHECK(docker->inspectVolume(name("data")).isOk());

  auto listed = docker->listContainers({itestLabel(), "io.pharos.config-hash=abc"});
  REQUIRE(listed.isOk());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().id == *id);
  CHECK(listed->front().name == name("web"));
  CHECK(listed->front().state == "running");
  CHECK(docker->listContainers({itestLabel(), "io.pharos.config-hash=other"})->empty());

  CHECK(docker->removeContainer(*id).code() == Code::kConflict);
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(docker->stopContainer(*id, 1).isOk());
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  CHECK(docker->stopContainer(*id, 1).isOk());  // 304 is ok
  CHECK(docker->killContainer(*id).code() == Code::kConflict);
  REQUIRE(docker->restartContainer(*id, 1).isOk());
  CHECK(docker->inspectContainer(*id)->running);
  REQUIRE(docker->removeContainer(*id, true, true).isOk());
  CHECK(docker->inspectContainer(*id).status().code() == Code::kNotFound);
  CHECK(docker->removeVolume(name("data")).isOk());
}

TEST_CASE("engine errors keep Docker's message and map to codes") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  auto bad = docker->createContainer(name("bad"),
                                     Json{{"Image", "pharos-test/nope:1"}, {"Labels", labels()}});
  CHECK(bad.status().code() == Code::kNotFound);
  CHECK(bad.status().message().find("No such image") != std::string::npos);
  auto missing = docker->inspectContainer(name("missing"));
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(missing.status().message().find("No such container") != std::string::npos);
  CHECK(docker->inspectImage("pharos-test/nope:1").status().code() == Code::kNotFound);
  auto invalid = docker->createContainer("bad name!", Json{{"Image", image()}});
  CHECK(invalid.status().code() == Code::kInvalidArgument);
  CHECK(invalid.status().message().find("Invalid container name") != std::string::npos);
}

TEST_CASE("logs are demultiplexed, tailed, and raw for a TTY") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  Json body = {
      {"Image", image()},
      {"Cmd", {"sh", "-c", "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three; sleep 30"}},
      {"Labels", labels()}};
  auto id = docker->createContainer(name("logs"), body);
  REQUIRE(id.isOk());
  REQUIRE(docker->startContainer(*id).isOk());
  LogOptions all;
  REQUIRE(eventually(
      [&] { return docker->containerLogs(*id, all)->find("three") != std::string::npos; }));
  std::string text = docker->containerLogs(*id, all).value();
  CHECK(text.find("one\n") != std::string::npos);
  CHECK(text.find("two\n") != std::string::npos);
  CHECK(text.find('\x01') == std::string::npos);  // no frame headers left
  LogOptions only_err;
  only_err.stdout_stream = false;
  CHECK(docker->containerLogs(*id, only_err).value() == "two\n");
  LogOptions tail;
  tail.tail = 1;
  tail.stderr_stream = false;
  CHECK(docker->containerLogs(*id, tail).value() == "three\n");

  body["Tty"] = true;
  auto tty = docker->createContainer(name("tty"), body);
  REQUIRE(tty.isOk());
  REQUIRE(docker->startContainer(*tty).isOk());
  REQUIRE(eventually(
      [&] { return docker->containerLogs(*tty, all)->find("three") != std::string::npos; }));
  CHECK(docker->containerLogs(*tty, all)->find("one\r\n") != std::string::npos);
  CHECK(docker->containerLogs(name("nope"), all).status().code() == Code::kNotFound);
}

TEST_CASE("stats give CPU and memory numbers for a running container") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  auto id = docker->createContainer(
      name("stats"),
      Json{{"Image", image()}, {"Cmd", {"sh", "-c", "while :; do :; done"}}, {"Labels", labels()}});
  REQUIRE(id.isOk());
  REQUIRE(docker->startContainer(*id).isOk());
  std::this_thread::sleep_for(300ms);
  auto one = docker->containerStats(*id, true);
  REQUIRE_MESSAGE(one.isOk(), one.status().toString());
  CHECK(one->cpu_total_ns > 0);
  CHECK(one->memory_usage > 0);
  CHECK(one->memory_limit > 0);
  CHECK(one->pids >= 1);
  auto two = docker->containerStats(*id, false);
  REQUIRE(two.isOk());
  CHECK(two->cpu_percent > 1.0);  // a busy loop
}

TEST_CASE("waitContainer returns the exit code") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  auto id = docker->createContainer(
      name("wait"),
      Json{{"Image", image()}, {"Cmd", {"sh", "-c", "sleep 0.3; exit 3"}}, {"Labels", labels()}});
  REQUIRE(id.isOk());
  REQUIRE(docker->startContainer(*id).isOk());
  auto code = docker->waitContainer(*id, 20s);
  REQUIRE_MESSAGE(code.isOk(), code.status().toString());
  CHECK(*code == 3);
  auto info = docker->inspectContainer(*id);
  CHECK(info->state == "exited");
  CHECK(info->exit_code == 3);
}

TEST_CASE("the events stream sees a kill as die, filtered by label, and stops promptly") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  EventLog log;
  auto stream = docker->watchEvents({{"container"}, {itestLabel()}}, log.onEvent(), log.onState());
  REQUIRE(log.waitFor([&] { return !log.states.empty(); }, 10s));
  REQUIRE(log.states.front().isOk());
  auto id = docker->createContainer(name("events"), Json{{"Image", image()}, {"Labels", labels()}});
  REQUIRE(id.isOk());
  REQUIRE(docker->startContainer(*id).isOk());
  REQUIRE(docker->killContainer(*id, "SIGKILL").isOk());
  bool died = log.waitFor([&] {
    for (const auto& e : log.events) {
      if (e.action == "die" && e.id == *id) return true;
    }
    return false;
  });
  REQUIRE(died);
  {
    std::lock_guard<std::mutex> lock(log.mu);
    std::vector<std::string> actions;
    for (const auto& e : log.events) {
      CHECK(e.type == "container");
      CHECK(e.attributes.at("io.pharos.itest") == runId());
      if (e.action == "die") {
        CHECK(e.attributes.at("exitCode") == "137");
        CHECK(e.attributes.at("name") == name("events"));
        CHECK(e.time_nano > 0);
      }
      actions.push_back(e.action);
    }
    CHECK(actions.front() == "create");
  }
  auto t0 = std::chrono::steady_clock::now();
  stream->stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
}

TEST_CASE("networks: create, duplicate, connect with aliases, in-use removal, remove") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  Json net_body = {{"Name", name("net")}, {"Driver", "bridge"}, {"Labels", labels()}};
  auto net = docker->createNetwork(net_body);
  REQUIRE_MESSAGE(net.isOk(), net.status().toString());
  auto dup = docker->createNetwork(net_body);
  CHECK(dup.status().code() == Code::kAlreadyExists);
  auto listed = docker->listNetworks({itestLabel()});
  REQUIRE(listed.isOk());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().name == name("net"));

  Json body = {
      {"Image", image()},
      {"Labels", labels()},
      {"HostConfig", {{"NetworkMode", name("net")}}},
      {"NetworkingConfig", {{"EndpointsConfig", {{name("net"), {{"Aliases", {"web"}}}}}}}}};
  auto a = docker->createContainer(name("net-a"), body);
  REQUIRE(a.isOk());
  auto b = docker->createContainer(name("net-b"), Json{{"Image", image()}, {"Labels", labels()}});
  REQUIRE(b.isOk());
  REQUIRE(docker->startContainer(*a).isOk());
  REQUIRE(docker->startContainer(*b).isOk());
  Status connected = docker->connectNetworkWithAliases(name("net"), *b, {"api", "backend"});
  REQUIRE_MESSAGE(connected.isOk(), connected.toString());
  CHECK(docker->connectNetworkWithAliases(name("net"), *b, {"api"}).code() == Code::kAlreadyExists);

  auto info = docker->inspectContainer(*b).value();
  const Json& endpoint = info.raw["NetworkSettings"]["Networks"][name("net")];
  auto aliases = endpoint["Aliases"].get<std::vector<std::string>>();
  CHECK(std::find(aliases.begin(), aliases.end(), "api") != aliases.end());
  CHECK(!endpoint["IPAddress"].get<std::string>().empty());
  auto inspected = docker->inspectNetwork(name("net"));
  REQUIRE(inspected.isOk());
  CHECK(inspected->id == *net);
  CHECK(inspected->containers.size() == 2);
  // Name resolution by alias inside the network.
  auto probe = docker->createContainer(
      name("net-probe"),
      Json{{"Image", image()},
           {"Cmd", {"sh", "-c", "ping -c1 -W2 api >/dev/null && ping -c1 -W2 web >/dev/null"}},
           {"Labels", labels()},
           {"HostConfig", {{"NetworkMode", name("net")}}}});
  REQUIRE(probe.isOk());
  REQUIRE(docker->startContainer(*probe).isOk());
  CHECK(docker->waitContainer(*probe, 20s).value() == 0);

  Status in_use = docker->removeNetwork(name("net"));
  CHECK(in_use.code() == Code::kConflict);
  CHECK(in_use.message().find("active endpoints") != std::string::npos);
  REQUIRE(docker->disconnectNetwork(name("net"), *b, true).isOk());
  REQUIRE(docker->removeContainer(*a, true).isOk());
  REQUIRE(docker->removeContainer(*probe, true).isOk());
  REQUIRE(docker->removeNetwork(*net).isOk());
  CHECK(docker->inspectNetwork(name("net")).status().code() == Code::kNotFound);
}

TEST_CASE("volumes: create with labels, list, in-use removal, remove") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  auto vol = docker->createVolume(Json{{"Name", name("vol")}, {"Labels", labels()}});
  REQUIRE_MESSAGE(vol.isOk(), vol.status().toString());
  CHECK(vol->name == name("vol"));
  CHECK(vol->driver == "local");
  CHECK(!vol->mountpoint.empty());
  CHECK(docker->createVolume(Json{{"Name", name("vol")}, {"Labels", labels()}}).isOk());
  auto listed = docker->listVolumes({itestLabel()});
  REQUIRE(listed.isOk());
  CHECK(listed->size() == 1);
  auto user = docker->createContainer(name("vol-user"),
                                      Json{{"Image", image()},
                                           {"Labels", labels()},
                                           {"HostConfig", {{"Binds", {name("vol") + ":/data"}}}}});
  REQUIRE(user.isOk());
  CHECK(docker->removeVolume(name("vol")).code() == Code::kConflict);
  REQUIRE(docker->removeContainer(*user, true).isOk());
  REQUIRE(docker->removeVolume(name("vol")).isOk());
  CHECK(docker->inspectVolume(name("vol")).status().code() == Code::kNotFound);
}

TEST_CASE("the client is usable from several threads at once") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (docker->listContainers({itestLabel()}).isOk() && docker->ping().isOk()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 40);
}

TEST_CASE("the events stream reconnects after the engine goes away and comes back") {
  Cleanup cleanup;
  auto& docker = cleanup.docker;
  auto upstream = dockerSocketPath(env("DOCKER_HOST"));
  REQUIRE(upstream.isOk());
  SocketProxy proxy(*upstream, "/tmp/pharos-itest-" + runId() + ".sock");
  auto via_proxy = makeCurlDockerClient(proxy.host());
  EventLog log;
  auto stream =
      via_proxy->watchEvents({{"container"}, {itestLabel()}}, log.onEvent(), log.onState());
  REQUIRE(log.waitFor([&] { return log.states.size() == 1; }, 10s));
  REQUIRE(log.states[0].isOk());

  auto id =
      docker->createContainer(name("reconnect"), Json{{"Image", image()}, {"Labels", labels()}});
  REQUIRE(id.isOk());
  REQUIRE(log.waitFor([&] { return !log.events.empty(); }));

  proxy.cut();  // the "daemon" goes away
  REQUIRE(log.waitFor([&] { return log.states.size() >= 2; }, 10s));
  CHECK(log.states[1].code() == Code::kUnavailable);
  CHECK(via_proxy->ping().code() == Code::kUnavailable);
  std::this_thread::sleep_for(1s);  // a few failed attempts: backoff grows
  proxy.restore();
  REQUIRE(log.waitFor([&] { return log.states.size() >= 3; }, 10s));
  CHECK(log.states[2].isOk());
  {
    std::lock_guard<std::mutex> lock(log.mu);
    CHECK(log.states.size() == 3);  // repeated failed connects are reported once
  }

  REQUIRE(docker->startContainer(*id).isOk());
  REQUIRE(docker->killContainer(*id, "SIGKILL").isOk());
  REQUIRE(log.waitFor([&] {
    for (const auto& e : log.events) {
      if (e.action == "die" && e.id == *id) return true;
    }
    return false;
  }));
  {
    std::lock_guard<std::mutex> lock(log.mu);
    int creates = 0;
    for (const auto& e : log.events) creates += e.action == "create" ? 1 : 0;
    CHECK(creates == 1);  // resuming from the last event's time does not replay it
  }
  stream->stop();
}
