// FakeDockerClient core: engine state, counters, fault injection, events, and the container
// state machine. Images, networks and volumes are in fake_docker_resources.cpp. Every
// public method takes mu_, collects the events it causes, releases mu_ and then delivers
// them (see the header for the threading contract).
#include "agent/fake_docker.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "docker_json.h"
#include "fake_docker_util.h"

namespace pharos::agent {

struct FakeDockerClient::Subscriber {
  EventFilter filter;
  EventCallback on_event;
  EventStateCallback on_state;
  std::recursive_mutex mu;  // held while delivering, so stop() waits for a delivery
  bool active = true;       // guarded by mu
};

namespace {

class FakeEventStream final : public EventStream {
 public:
  explicit FakeEventStream(std::shared_ptr<FakeDockerClient::Subscriber> sub)
      : sub_(std::move(sub)) {}
  ~FakeEventStream() override { stop(); }
  void stop() override;

 private:
  std::shared_ptr<FakeDockerClient::Subscriber> sub_;
};

bool matches(const EventFilter& filter, const DockerEvent& e) {
  if (!filter.types.empty() &&
      std::find(filter.types.begin(), filter.types.end(), e.type) == filter.types.end()) {
    return false;
  }
  return labelsMatch(e.attributes, filter.labels);
}

int signalNumber(const std::string& signal) {
  std::string s = signal;
  if (s.rfind("SIG", 0) == 0) s = s.substr(3);
  static constexpr std::pair<const char*, int> kSignals[] = {
      {"HUP", 1}, {"INT", 2}, {"QUIT", 3}, {"KILL", 9}, {"USR1", 10}, {"USR2", 12}, {"TERM", 15}};
  for (const auto& [name, number] : kSignals) {
    if (s == name) return number;
  }
  char* end = nullptr;
  long n = std::strtol(s.c_str(), &end, 10);
  return (end != nullptr && *end == '\0' && n > 0 && n < 65) ? static_cast<int>(n) : -1;
}

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

FakeDockerClient::FakeDockerClient(const Clock* clock) : clock_(clock) {
  for (const char* name : {"bridge", "host", "none"}) {
    Network n;
    n.id = fakeHexId(std::string("network/") + name);
    n.name = name;
    n.driver = std::string(name) == "none" ? "null" : name;
    n.builtin = true;
    networks_[n.id] = std::move(n);
  }
}

FakeDockerClient::~FakeDockerClient() = default;

// --- infrastructure

Status FakeDockerClient::enter(DockerOp op) {
  ++calls_[static_cast<size_t>(op)];
  if (!up_) {
    return Status::unavailable(
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker "
        "daemon running?");
  }
  auto it = failures_.find(op);
  if (it != failures_.end() && !it->second.empty()) {
    Status s = it->second.front();
    it->second.pop_front();
    if (it->second.empty()) failures_.erase(it);
    return s;
  }
  return Status::ok();
}

int64_t FakeDockerClient::nowMs() const {
  if (clock_ != nullptr) return clock_->nowMs();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FakeDockerClient::newId() { return fakeHexId("object/" + std::to_string(next_id_++)); }

void FakeDockerClient::emit(Pending& out, const std::string& type, const std::string& action,
                            const std::string& id, Labels attributes) {
  DockerEvent e;
  e.type = type;
  e.action = action;
  e.id = id;
  e.attributes = std::move(attributes);
  e.time_nano = nowMs() * 1'000'000;
  out.push_back(std::move(e));
}

void FakeDockerClient::deliver(const Pending& events) {
  if (events.empty()) return;
  std::vector<std::shared_ptr<Subscriber>> subs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    subs = subscribers_;
  }
  for (const auto& sub : subs) {
    std::lock_guard<std::recursive_mutex> lock(sub->mu);
    if (!sub->active || !sub->on_event) continue;
    for (const auto& e : events) {
      if (matches(sub->filter, e)) sub->on_event(e);
      if (!sub->active) break;
    }
  }
}

void FakeDockerClient::deliverState(const Status& status) {
  std::vector<std::shared_ptr<Subscriber>> subs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    subs = subscribers_;
  }
  for (const auto& sub : subs) {
    std::lock_guard<std::recursive_mutex> lock(sub->mu);
    if (sub->active && sub->on_state) sub->on_state(status);
  }
}

std::unique_ptr<EventStream> FakeDockerClient::watchEvents(EventFilter filter,
                                                           EventCallback on_event,
                                                           EventStateCallback on_state) {
  auto sub = std::make_shared<Subscriber>();
  sub->filter = std::move(filter);
  sub->on_event = std::move(on_event);
  sub->on_state = std::move(on_state);
  bool up;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_[static_cast<size_t>(DockerOp::kWatchEvents)];
    // Drop stopped subscribers (their streams are gone or stopped).
    subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                      [](const std::shared_ptr<Subscriber>& s) {
                                        std::lock_guard<std::recursive_mutex> l(s->mu);
                                        return !s->active;
                                      }),
                       subscribers_.end());
    subscribers_.push_back(sub);
    up = up_;
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
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < times; ++i) failures_[op].push_back(status);
}

void FakeDockerClient::setEngineUp(bool up) {
  bool changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changed = up_ != up;
    up_ = up;
  }
  if (changed) {
    deliverState(up ? Status::ok()
                    : Status::unavailable("docker events: the engine closed the stream"));
  }
}

void FakeDockerClient::restartDaemon() {
  deliverState(Status::unavailable("docker events: the engine closed the stream"));
  {
    std::lock_guard<std::mutex> lock(mu_);
    Pending lost;  // emitted while no stream is connected: nobody sees them
    for (auto& [id, c] : containers_) {
      if (c.state != "running") continue;
      c.state = "exited";
      c.exit_code = 0;
      c.finished_ms = nowMs();
      if (!c.health.empty()) c.health = "unhealthy";
    }
    for (auto& [id, c] : containers_) {
      std::string policy = jsonStr(jsonObj(jsonObj(c.body, "HostConfig"), "RestartPolicy"), "Name");
      bool restart = policy == "always" || (policy == "unless-stopped" && !c.stopped_by_user);
      if (restart && c.state == "exited") startLocked(c, lost);
    }
    changed_.notify_all();
  }
  deliverState(Status::ok());
}

Status FakeDockerClient::crashContainer(const std::string& id, int exit_code) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Container* c = findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    if (c->state != "running") return Status::conflict("Container " + c->id + " is not running");
    exitLocked(*c, exit_code, out);
    if (shouldRestart(*c)) {
      ++c->restart_count;
      startLocked(*c, out);
    }
  }
  deliver(out);
  return Status::ok();
}

Status FakeDockerClient::removeBehindBack(const std::string& id) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Container* c = findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    if (c->state == "running") {
      emit(out, "container", "kill", c->id, withSignal(containerAttributes(*c), "9"));
      exitLocked(*c, 137, out);
    }
    removeContainerLocked(c->id, out);
  }
  deliver(out);
  return Status::ok();
}

Status FakeDockerClient::setHealth(const std::string& id, const std::string& health) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Container* c = findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    c->health = health;
    emit(out, "container", "health_status: " + health, c->id, containerAttributes(*c));
  }
  deliver(out);
  return Status::ok();
}

void FakeDockerClient::appendLogs(const std::string& id, const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Container* c = findContainer(id)) c->logs += text;
}

void FakeDockerClient::setStats(const std::string& id, const ContainerStats& stats) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Container* c = findContainer(id)) c->stats = stats;
}

int FakeDockerClient::calls(DockerOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_[static_cast<size_t>(op)];
}

int FakeDockerClient::mutatingCalls() const {
  std::lock_guard<std::mutex> lock(mu_);
  int sum = 0;
  for (size_t i = 0; i < calls_.size(); ++i) {
    if (isMutatingOp(static_cast<DockerOp>(i))) sum += calls_[i];
  }
  return sum;
}

void FakeDockerClient::resetCounters() {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.fill(0);
}

size_t FakeDockerClient::containerCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return containers_.size();
}

// --- engine

Result<DockerVersion> FakeDockerClient::version() {
  std::lock_guard<std::mutex> lock(mu_);
  PHAROS_RETURN_IF_ERROR(enter(DockerOp::kVersion));
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

Status FakeDockerClient::ping() {
  std::lock_guard<std::mutex> lock(mu_);
  return enter(DockerOp::kPing);
}

Result<Json> FakeDockerClient::info() {
  std::lock_guard<std::mutex> lock(mu_);
  PHAROS_RETURN_IF_ERROR(enter(DockerOp::kInfo));
  int running = 0;
  for (const auto& [id, c] : containers_) running += c.state == "running" ? 1 : 0;
  return Json{{"ServerVersion", "20.10.24+fake"},
              {"Containers", containers_.size()},
              {"ContainersRunning", running},
              {"Images", images_.size()},
              {"Driver", "fake"},
              {"NCPU", 2},
              {"MemTotal", int64_t(2) << 30},
              {"OperatingSystem", "Pharos fake engine"},
              {"OSType", "linux"},
              {"Architecture", "x86_64"},
              {"KernelVersion", "6.1.0-fake"},
              {"CgroupDriver", "cgroupfs"}};
}

// --- containers

FakeDockerClient::Container* FakeDockerClient::findContainer(const std::string& id_or_name) {
  std::string key = id_or_name;
  if (!key.empty() && key[0] == '/') key.erase(0, 1);
  if (auto it = containers_.find(key); it != containers_.end()) return &it->second;
  if (auto it = names_.find(key); it != names_.end()) return &containers_.at(it->second);
  if (key.size() >= 4) {
    auto it = containers_.lower_bound(key);
    if (it != containers_.end() && it->first.compare(0, key.size(), key) == 0) return &it->second;
  }
  return nullptr;
}

Labels FakeDockerClient::containerAttributes(const Container& c) const {
  Labels attributes = c.labels;
  attributes["name"] = c.name;
  attributes["image"] = c.image_ref;
  return attributes;
}

bool FakeDockerClient::shouldRestart(const Container& c) const {
  const Json& policy = jsonObj(jsonObj(c.body, "HostConfig"), "RestartPolicy");
  std::string name = jsonStr(policy, "Name");
  if (c.stopped_by_user) return false;
  if (name == "always" || name == "unless-stopped") return true;
  if (name == "on-failure") {
    int64_t max = jsonInt(policy, "MaximumRetryCount");
    return c.exit_code != 0 && (max == 0 || c.restart_count < max);
  }
  return false;
}

void FakeDockerClient::startLocked(Container& c, Pending& out) {
  c.state = "running";
  c.exit_code = 0;
  c.oom_killed = false;
  c.stopped_by_user = false;
  c.started_ms = nowMs();
  const Json& healthcheck = jsonObj(c.body, "Healthcheck");
  auto test = jsonStrings(jsonObj(healthcheck, "Test"));
  c.health = (!test.empty() && test[0] != "NONE") ? "starting" : "";
  for (auto& [name, endpoint] : c.endpoints) {
    if (endpoint.ip.empty() && name != "host" && name != "none") {
      endpoint.ip =
          "172.17." + std::to_string((next_id_ >> 8) & 255) + "." + std::to_string(next_id_ & 255);
      ++next_id_;
    }
  }
  emit(out, "container", "start", c.id, containerAttributes(c));
}

void FakeDockerClient::exitLocked(Container& c, int exit_code, Pending& out) {
  c.state = "exited";
  c.exit_code = exit_code;
  c.last_exit_code = exit_code;
  ++c.exits;
  c.finished_ms = nowMs();
  for (auto& [name, endpoint] : c.endpoints) endpoint.ip.clear();
  Labels attributes = containerAttributes(c);
  attributes["exitCode"] = std::to_string(exit_code);
  emit(out, "container", "die", c.id, std::move(attributes));
  changed_.notify_all();
}

void FakeDockerClient::removeContainerLocked(const std::string& id, Pending& out) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return;
  emit(out, "container", "destroy", id, containerAttributes(it->second));
  names_.erase(it->second.name);
  containers_.erase(it);
  changed_.notify_all();
}

Result<std::string> FakeDockerClient::createContainer(const std::string& name, const Json& body) {
  Pending out;
  std::string id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    PHAROS_RETURN_IF_ERROR(enter(DockerOp::kCreateContainer));
    if (!name.empty() && !validContainerName(name)) {
      return Status::invalidArgument("Invalid container name (" + name +
                                     "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    }
    if (!name.empty() && names_.count(name) != 0) {
      return Status::alreadyExists("Conflict. The container name \"/" + name +
                                   "\" is already in use by container \"" + names_.at(name) +
                                   "\". You have to remove (or rename) that container to be "
                                   "able to reuse that name.");
    }
    std::string image_ref = jsonStr(body, "Image");
    if (image_ref.empty()) return Status::invalidArgument("No command specified");
    Image* image = findImage(image_ref);
    if (image == nullptr) return Status::notFound("No such image: " + normalizeRef(image_ref));
    Container c;
    c.id = newId();
    c.name = name.empty() ? "fake_" + c.id.substr(0, 12) : name;
    c.body = body;
    c.image_ref = image_ref;
    c.image_id = image->id;
    c.labels = image->labels;
    for (const auto& [k, v] : jsonLabels(jsonObj(body, "Labels"))) c.labels[k] = v;
    c.created_ms = nowMs();
    // Network: HostConfig.NetworkMode, with its endpoint config from NetworkingConfig.
    const Json& host = jsonObj(body, "HostConfig");
    std::string mode = jsonStr(host, "NetworkMode");
    if (mode.empty() || mode == "default") mode = "bridge";
    const Json& endpoints = jsonObj(jsonObj(body, "NetworkingConfig"), "EndpointsConfig");
    if (endpoints.is_object() && endpoints.size() > 1) {
      return Status::invalidArgument(
          "Container cannot be connected to network endpoints: only one network at create");
    }
    if (mode.rfind("container:", 0) != 0) {
      Json endpoint =
          endpoints.is_object() && endpoints.contains(mode) ? endpoints.at(mode) : Json::object();
      PHAROS_RETURN_IF_ERROR(attachLocked(c, mode, endpoint, out));
    }
    // Named volumes (Binds "name:/path" and Mounts of type volume) are created on demand.
    std::vector<std::string> volume_names;
    for (const auto& bind : jsonStrings(jsonObj(host, "Binds"))) {
      std::string source = bind.substr(0, bind.find(':'));
      if (!source.empty() && source[0] != '/') volume_names.push_back(source);
    }
    const Json& mounts = jsonObj(host, "Mounts");
    if (mounts.is_array()) {
      for (const auto& m : mounts) {
        if (jsonStr(m, "Type") == "volume" && !jsonStr(m, "Source").empty()) {
          volume_names.push_back(jsonStr(m, "Source"));
        }
      }
    }
    for (const auto& v : volume_names) {
      if (volumes_.count(v) == 0) {
        Volume vol;
        vol.name = v;
        vol.driver = "local";
        vol.created_ms = nowMs();
        volumes_[v] = vol;
        emit(out, "volume", "create", v, {{"driver", "local"}});
      }
      c.volumes.push_back(v);
    }
    id = c.id;
    emit(out, "container", "create", id, containerAttributes(c));
    names_[c.name] = id;
    containers_[id] = std::move(c);
  }
  deliver(out);
  return id;
}

Status FakeDockerClient::startContainer(const std::string& id) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    PHAROS_RETURN_IF_ERROR(enter(DockerOp::kStartContainer));
    Container* c = findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    if (c->state == "running") return Status::ok();  // 304
    for (const auto& [network, endpoint] : c->endpoints) {
      if (findNetwork(endpoint.network_id) == nullptr) {
        return Status::notFound("network " + network + " not found");
      }
    }
    startLocked(*c, out);
  }
  deliver(out);
  return Status::ok();
}

Status FakeDockerClient::stopContainer(const std::string& id, std::optional<int> /*timeout_s*/) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    PHAROS_RETURN_IF_ERROR(enter(DockerOp::kStopContainer));
    Container* c = findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    if (c->state != "running") return Status::ok();  // 304
    c->stopped_by_user = true;
    emit(out, "container", "kill", c->id, withSignal(containerAttributes(*c), "15"));
    exitLocked(*c, 0, out);
    emit(out, "container", "stop", c->id, containerAttributes(*c));
  }
  deliver(out);
  return Status::ok();
}

Status FakeDockerClient::restartContainer(const std::string& id, std::optional<int> /*timeout*/) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    PHAROS_RETURN_IF_ERROR(enter(DockerOp::kRestartContainer));
    Container* c = findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    if (c->state == "running") {
      emit(out, "container", "kill", c->id, withSignal(containerAttributes(*c), "15"));
      exitLocked(*c, 0, out);
      emit(out, "container", "stop", c->id, containerAttributes(*c));
    }
    startLocked(*c, out);
    emit(out, "container", "restart", c->id, containerAttributes(*c));
  }
  deliver(out);
  return Status::ok();
}

Status FakeDockerClient::killContainer(const std::string& id, const std::string& signal) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    PHAROS_RETURN_IF_ERROR(enter(DockerOp::kKillContainer));
    int number = signalNumber(signal);
    if (number < 0) return Status::invalidArgument("Invalid signal: " + signal);
    Container* c = findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    if (c->state != "running") {
      return Status::conflict("Cannot kill container: " + id + ": Container " + c->id +
                              " is not running");
    }
    emit(out, "container", "kill", c->id,
         withSignal(containerAttributes(*c), std::to_string(number)));
    // The test image traps TERM/INT and exits 0; other signals end it with 128+n. SIGKILL
    // through the API does not trigger the restart policy (the engine's ExitOnNext).
    int exit_code = (number == 15 || number == 2) ? 0 : 128 + number;
    if (number == 9) c->stopped_by_user = true;
    exitLocked(*c, exit_code, out);
    if (number != 9 && shouldRestart(*c)) {
      ++c->restart_count;
      startLocked(*c, out);
    }
  }
  deliver(out);
  return Status::ok();
}

Status FakeDockerClient::removeContainer(const std::string& id, bool force, bool /*volumes*/) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    PHAROS_RETURN_IF_ERROR(enter(DockerOp::kRemoveContainer));
    Container* c = findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    if (c->state == "running") {
      if (!force) {
        return Status::conflict("You cannot remove a running container " + c->id +
                                ". Stop the container before attempting removal or force remove");
      }
      emit(out, "container", "kill", c->id, withSignal(containerAttributes(*c), "9"));
      c->stopped_by_user = true;
      exitLocked(*c, 137, out);
    }
    removeContainerLocked(c->id, out);
  }
  deliver(out);
  return Status::ok();
}

Result<ContainerInfo> FakeDockerClient::inspectContainer(const std::string& id_or_name) {
  std::lock_guard<std::mutex> lock(mu_);
  PHAROS_RETURN_IF_ERROR(enter(DockerOp::kInspectContainer));
  Container* c = findContainer(id_or_name);
  if (c == nullptr) return Status::notFound("No such container: " + id_or_name);
  return containerInfoLocked(*c);
}

Result<std::vector<ContainerSummary>> FakeDockerClient::listContainers(
    const std::vector<std::string>& label_filters, bool all) {
  std::lock_guard<std::mutex> lock(mu_);
  PHAROS_RETURN_IF_ERROR(enter(DockerOp::kListContainers));
  std::vector<ContainerSummary> out;
  for (const auto& [id, c] : containers_) {
    if (!all && c.state != "running") continue;
    if (!labelsMatch(c.labels, label_filters)) continue;
    ContainerSummary s;
    s.id = c.id;
    s.name = c.name;
    s.image = c.image_ref;
    s.image_id = c.image_id;
    s.state = c.state;
    if (c.state == "running") {
      s.status = "Up";
      if (!c.health.empty()) s.status += " (" + c.health + ")";
    } else if (c.state == "exited") {
      s.status = "Exited (" + std::to_string(c.exit_code) + ")";
    } else {
      s.status = "Created";
    }
    s.labels = c.labels;
    s.created = c.created_ms / 1000;
    out.push_back(std::move(s));
  }
  return out;
}

Result<int> FakeDockerClient::waitContainer(const std::string& id,
                                            std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  PHAROS_RETURN_IF_ERROR(enter(DockerOp::kWaitContainer));
  Container* c = findContainer(id);
  if (c == nullptr) return Status::notFound("No such container: " + id);
  std::string full_id = c->id;
  int exits = c->exits;
  // Like condition=not-running: returns at the next exit even when a restart policy starts
  // the container again at once.
  bool done = changed_.wait_for(lock, timeout, [&] {
    auto it = containers_.find(full_id);
    return it == containers_.end() || it->second.state != "running" || it->second.exits != exits;
  });
  if (!done) return Status::unavailable("waiting for container " + id + " timed out");
  auto it = containers_.find(full_id);
  if (it == containers_.end()) return Status::notFound("No such container: " + id);
  return it->second.last_exit_code;
}

Result<std::string> FakeDockerClient::containerLogs(const std::string& id,
                                                    const LogOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  PHAROS_RETURN_IF_ERROR(enter(DockerOp::kContainerLogs));
  Container* c = findContainer(id);
  if (c == nullptr) return Status::notFound("No such container: " + id);
  std::string text = c->logs;
  if (options.tail >= 0) {
    size_t pos = text.size();
    if (!text.empty() && text.back() == '\n') --pos;
    int lines = 0;
    while (pos > 0 && lines < options.tail) {
      size_t nl = text.rfind('\n', pos - 1);
      if (nl == std::string::npos) {
        pos = 0;
        break;
      }
      pos = nl;
      ++lines;
      if (lines == options.tail) ++pos;
    }
    if (options.tail == 0) pos = text.size();
    text = text.substr(pos);
  }
  if (text.size() > options.max_bytes) text = text.substr(text.size() - options.max_bytes);
  return text;
}

Result<ContainerStats> FakeDockerClient::containerStats(const std::string& id, bool /*one_shot*/) {
  std::lock_guard<std::mutex> lock(mu_);
  PHAROS_RETURN_IF_ERROR(enter(DockerOp::kContainerStats));
  Container* c = findContainer(id);
  if (c == nullptr) return Status::notFound("No such container: " + id);
  if (c->state != "running") return ContainerStats{};
  return c->stats;
}

ContainerInfo FakeDockerClient::containerInfoLocked(const Container& c) const {
  Json config = c.body.is_object() ? c.body : Json::object();
  config.erase("HostConfig");
  config.erase("NetworkingConfig");
  config["Image"] = c.image_ref;
  config["Labels"] = c.labels;
  if (!config.contains("Hostname")) config["Hostname"] = c.id.substr(0, 12);
  Json host = jsonObj(c.body, "HostConfig").is_object() ? c.body["HostConfig"] : Json::object();
  if (jsonStr(host, "NetworkMode").empty()) host["NetworkMode"] = "default";
  if (!host.contains("RestartPolicy")) {
    host["RestartPolicy"] = {{"Name", ""}, {"MaximumRetryCount", 0}};
  }
  Json state = {{"Status", c.state},
                {"Running", c.state == "running"},
                {"Paused", false},
                {"Restarting", false},
                {"OOMKilled", c.oom_killed},
                {"Dead", false},
                {"Pid", c.state == "running" ? 1000 + static_cast<int>(c.created_ms % 30000) : 0},
                {"ExitCode", c.exit_code},
                {"Error", ""},
                {"StartedAt", rfc3339(c.started_ms)},
                {"FinishedAt", rfc3339(c.finished_ms)}};
  if (!c.health.empty()) {
    state["Health"] = {{"Status", c.health}, {"FailingStreak", 0}, {"Log", Json::array()}};
  }
  Json networks = Json::object();
  std::string bridge_ip;
  for (const auto& [name, endpoint] : c.endpoints) {
    networks[name] = {
        {"NetworkID", endpoint.network_id},
        {"Aliases", endpoint.aliases.empty() ? Json(nullptr) : Json(endpoint.aliases)},
        {"IPAddress", endpoint.ip},
        {"EndpointID", endpoint.ip.empty() ? "" : fakeHexId(c.id + name)}};
    if (name == "bridge") bridge_ip = endpoint.ip;
  }
  Json mounts = Json::array();
  for (const auto& v : c.volumes) {
    mounts.push_back({{"Type", "volume"},
                      {"Name", v},
                      {"Source", "/var/lib/docker/volumes/" + v + "/_data"},
                      {"Driver", "local"},
                      {"RW", true}});
  }
  Json raw = {{"Id", c.id},
              {"Created", rfc3339(c.created_ms)},
              {"Name", "/" + c.name},
              {"Image", c.image_id},
              {"RestartCount", c.restart_count},
              {"State", std::move(state)},
              {"Config", std::move(config)},
              {"HostConfig", std::move(host)},
              {"NetworkSettings", {{"Networks", std::move(networks)}, {"IPAddress", bridge_ip}}},
              {"Mounts", std::move(mounts)}};
  auto info = containerInfoFromJson(std::move(raw));
  return std::move(info.value());
}

}  // namespace pharos::agent
