// FakeSystem (version, ping, info, events) and FakeDockerClient's engine-wide controls and
// counters. The shared state is FakeEngine (fake_engine.cpp); containers are in
// fake_docker_containers.cpp; images, networks and volumes in fake_docker_resources.cpp.
// Every public method takes the engine's mutex, collects the events it causes, releases it and
// then delivers them (see the header for the threading contract).
#include "agent/fake_docker.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "docker_json.h"
#include "fake_docker_util.h"
#include "fake_engine.h"

namespace pharos::agent {

namespace {

class FakeEventStream final : public EventStream {
 public:
  explicit FakeEventStream(std::shared_ptr<FakeEngine::Subscriber> sub) : sub_(std::move(sub)) {}
  ~FakeEventStream() override { stop(); }
  void stop() override;

 private:
  std::shared_ptr<FakeEngine::Subscriber> sub_;
};

}  // namespace

void FakeEventStream::stop() {
  std::lock_guard<std::recursive_mutex> lock(sub_->mu);
  sub_->active = false;
}

const char* dockerOpName(DockerOp op) {
  static constexpr const char* kNames[] = {"version",
                                           "ping",
                                           "info",
                                           "pullImage",
                                           "inspectImage",
                                           "removeImage",
                                           "listImages",
                                           "createContainer",
                                           "startContainer",
                                           "stopContainer",
                                           "restartContainer",
                                           "killContainer",
                                           "removeContainer",
                                           "inspectContainer",
                                           "listContainers",
                                           "waitContainer",
                                           "containerLogs",
                                           "containerStats",
                                           "createNetwork",
                                           "removeNetwork",
                                           "listNetworks",
                                           "inspectNetwork",
                                           "connectNetwork",
                                           "disconnectNetwork",
                                           "createVolume",
                                           "removeVolume",
                                           "listVolumes",
                                           "inspectVolume",
                                           "watchEvents"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(DockerOp::kCount));
  return kNames[static_cast<size_t>(op)];
}

bool isMutatingOp(DockerOp op) {
  switch (op) {
    case DockerOp::kPullImage:
    case DockerOp::kRemoveImage:
    case DockerOp::kCreateContainer:
    case DockerOp::kStartContainer:
    case DockerOp::kStopContainer:
    case DockerOp::kRestartContainer:
    case DockerOp::kKillContainer:
    case DockerOp::kRemoveContainer:
    case DockerOp::kCreateNetwork:
    case DockerOp::kRemoveNetwork:
    case DockerOp::kConnectNetwork:
    case DockerOp::kDisconnectNetwork:
    case DockerOp::kCreateVolume:
    case DockerOp::kRemoveVolume:
      return true;
    default:
      return false;
  }
}

FakeDockerClient::FakeDockerClient(const Clock* clock)
    : engine_(std::make_unique<FakeEngine>(clock)),
      e_(*engine_),
      system_(e_),
      images_(e_),
      containers_(e_),
      networks_(e_),
      volumes_(e_) {}

FakeDockerClient::~FakeDockerClient() = default;

// --- infrastructure

std::unique_ptr<EventStream> FakeSystem::watchEvents(EventFilter filter, EventCallback on_event,
                                                     EventStateCallback on_state) {
  auto sub = std::make_shared<Subscriber>();
  sub->filter = std::move(filter);
  sub->on_event = std::move(on_event);
  sub->on_state = std::move(on_state);
  bool up;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    ++e_.calls_[static_cast<size_t>(DockerOp::kWatchEvents)];
    // Drop stopped subscribers (their streams are gone or stopped).
    e_.subscribers_.erase(std::remove_if(e_.subscribers_.begin(), e_.subscribers_.end(),
                                         [](const std::shared_ptr<Subscriber>& s) {
                                           std::lock_guard<std::recursive_mutex> l(s->mu);
                                           return !s->active;
                                         }),
                          e_.subscribers_.end());
    e_.subscribers_.push_back(sub);
    up = e_.up_;
  }
  {
    std::lock_guard<std::recursive_mutex> lock(sub->mu);
    if (sub->on_state) {
      sub->on_state(up ? Status::ok() : Status::unavailable("docker events: engine unreachable"));
    }
  }
  return std::make_unique<FakeEventStream>(sub);
}

// --- test controls

void FakeDockerClient::failNext(DockerOp op, Status status, int times) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  for (int i = 0; i < times; ++i) e_.failures_[op].push_back(status);
}

void FakeDockerClient::setEngineUp(bool up) {
  bool changed;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    changed = e_.up_ != up;
    e_.up_ = up;
  }
  if (changed) {
    e_.deliverState(up ? Status::ok()
                       : Status::unavailable("docker events: the engine closed the stream"));
  }
}

void FakeDockerClient::restartDaemon() {
  e_.deliverState(Status::unavailable("docker events: the engine closed the stream"));
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    Pending lost;  // emitted while no stream is connected: nobody sees them
    for (auto& [id, c] : e_.containers_) {
      if (c.state != ContainerState::kRunning) continue;
      c.state = ContainerState::kExited;
      c.exit_code = 0;
      c.finished_ms = e_.nowMs();
      if (!c.health.empty()) c.health = "unhealthy";
    }
    for (auto& [id, c] : e_.containers_) {
      std::string policy = jsonStr(jsonObj(jsonObj(c.body, "HostConfig"), "RestartPolicy"), "Name");
      bool restart = policy == "always" || (policy == "unless-stopped" && !c.stopped_by_user);
      if (restart && c.state == ContainerState::kExited) e_.startLocked(c, lost);
    }
    e_.changed_.notify_all();
  }
  e_.deliverState(Status::ok());
}

std::optional<Json> FakeContainers::createBody(const std::string& id_or_name) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  Container* c = e_.findContainer(id_or_name);
  if (c == nullptr) return std::nullopt;
  return c->body;
}

Status FakeContainers::crashContainer(const std::string& id, int exit_code) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    Container* c = e_.findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    if (c->state != ContainerState::kRunning)
      return Status::conflict("Container " + c->id + " is not running");
    e_.exitLocked(*c, exit_code, out);
    if (e_.shouldRestart(*c)) {
      ++c->restart_count;
      e_.startLocked(*c, out);
    }
  }
  e_.deliver(out);
  return Status::ok();
}

Status FakeContainers::removeBehindBack(const std::string& id) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    Container* c = e_.findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    if (c->state == ContainerState::kRunning) {
      e_.emit(out, "container", "kill", c->id, withSignal(e_.containerAttributes(*c), "9"));
      e_.exitLocked(*c, 137, out);
    }
    e_.removeContainerLocked(c->id, out);
  }
  e_.deliver(out);
  return Status::ok();
}

Status FakeContainers::setHealth(const std::string& id, const std::string& health) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    Container* c = e_.findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    c->health = health;
    e_.emit(out, "container", "health_status: " + health, c->id, e_.containerAttributes(*c));
  }
  e_.deliver(out);
  return Status::ok();
}

void FakeContainers::appendLogs(const std::string& id, const std::string& text) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  if (Container* c = e_.findContainer(id)) c->logs += text;
}

void FakeContainers::setStats(const std::string& id, const ContainerStats& stats) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  if (Container* c = e_.findContainer(id)) c->stats = stats;
}

int FakeDockerClient::calls(DockerOp op) const {
  std::lock_guard<std::mutex> lock(e_.mu_);
  return e_.calls_[static_cast<size_t>(op)];
}

int FakeDockerClient::mutatingCalls() const {
  std::lock_guard<std::mutex> lock(e_.mu_);
  int sum = 0;
  for (size_t i = 0; i < e_.calls_.size(); ++i) {
    if (isMutatingOp(static_cast<DockerOp>(i))) sum += e_.calls_[i];
  }
  return sum;
}

void FakeDockerClient::resetCounters() {
  std::lock_guard<std::mutex> lock(e_.mu_);
  e_.calls_.fill(0);
}

size_t FakeDockerClient::containerCount() const {
  std::lock_guard<std::mutex> lock(e_.mu_);
  return e_.containers_.size();
}

// --- engine

Result<DockerVersion> FakeSystem::version() {
  std::lock_guard<std::mutex> lock(e_.mu_);
  PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kVersion));
  DockerVersion v;
  v.version = "20.10.24+fake";
  v.api_version = kMaxDockerApiVersion;
  v.engine_api_version = kMaxDockerApiVersion;
  v.min_api_version = "1.12";
  v.os = "linux";
  v.arch = "amd64";
  v.kernel_version = "6.1.0-fake";
  return v;
}

Status FakeSystem::ping() {
  std::lock_guard<std::mutex> lock(e_.mu_);
  return e_.enter(DockerOp::kPing);
}

Result<Json> FakeSystem::info() {
  std::lock_guard<std::mutex> lock(e_.mu_);
  PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kInfo));
  int running = 0;
  for (const auto& [id, c] : e_.containers_) running += c.state == ContainerState::kRunning ? 1 : 0;
  return Json{{"ServerVersion", "20.10.24+fake"},
              {"Containers", e_.containers_.size()},
              {"ContainersRunning", running},
              {"Images", e_.images_.size()},
              {"Driver", "fake"},
              {"NCPU", 2},
              {"MemTotal", int64_t(2) << 30},
              {"OperatingSystem", "Pharos fake engine"},
              {"OSType", "linux"},
              {"Architecture", "x86_64"},
              {"KernelVersion", "6.1.0-fake"},
              {"CgroupDriver", "cgroupfs"}};
}

}  // namespace pharos::agent
