// FakeContainers and the engine's container state machine (create, start, stop, restart,
// kill, remove, inspect, list, wait, logs, stats) with the engine's error codes and messages.
// The shared state and events are in fake_engine.cpp; same locking.
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "agent/fake_docker.h"
#include "docker_json.h"
#include "fake_docker_util.h"
#include "fake_engine.h"

namespace pharos::agent {

namespace {

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

// --- containers

FakeEngine::Container* FakeEngine::findContainer(const std::string& id_or_name) {
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

Labels FakeEngine::containerAttributes(const Container& c) const {
  Labels attributes = c.labels;
  attributes["name"] = c.name;
  attributes["image"] = c.image_ref;
  return attributes;
}

bool FakeEngine::shouldRestart(const Container& c) const {
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

void FakeEngine::startLocked(Container& c, Pending& out) {
  c.state = ContainerState::kRunning;
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

void FakeEngine::exitLocked(Container& c, int exit_code, Pending& out) {
  c.state = ContainerState::kExited;
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

void FakeEngine::removeContainerLocked(const std::string& id, Pending& out) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return;
  emit(out, "container", "destroy", id, containerAttributes(it->second));
  names_.erase(it->second.name);
  containers_.erase(it);
  changed_.notify_all();
}

Result<std::string> FakeContainers::createContainer(const std::string& name, const Json& body) {
  Pending out;
  std::string id;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kCreateContainer));
    if (!name.empty() && !validContainerName(name)) {
      return Status::invalidArgument("Invalid container name (" + name +
                                     "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    }
    if (!name.empty() && e_.names_.count(name) != 0) {
      return Status::alreadyExists("Conflict. The container name \"/" + name +
                                   "\" is already in use by container \"" + e_.names_.at(name) +
                                   "\". You have to remove (or rename) that container to be "
                                   "able to reuse that name.");
    }
    std::string image_ref = jsonStr(body, "Image");
    if (image_ref.empty()) return Status::invalidArgument("No command specified");
    Image* image = e_.findImage(image_ref);
    if (image == nullptr) return Status::notFound("No such image: " + e_.normalizeRef(image_ref));
    Container c;
    c.id = e_.newId();
    c.name = name.empty() ? "fake_" + c.id.substr(0, 12) : name;
    c.body = body;
    c.image_ref = image_ref;
    c.image_id = image->id;
    c.labels = image->labels;
    for (const auto& [k, v] : jsonLabels(jsonObj(body, "Labels"))) c.labels[k] = v;
    c.created_ms = e_.nowMs();
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
      PHAROS_RETURN_IF_ERROR(e_.attachLocked(c, mode, endpoint, out));
    }
    PHAROS_RETURN_IF_ERROR(e_.mountVolumesLocked(c, body, *image, out));
    id = c.id;
    e_.emit(out, "container", "create", id, e_.containerAttributes(c));
    e_.names_[c.name] = id;
    e_.containers_[id] = std::move(c);
  }
  e_.deliver(out);
  return id;
}

Status FakeContainers::startContainer(const std::string& id) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kStartContainer));
    Container* c = e_.findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    if (c->state == ContainerState::kRunning) return Status::ok();  // 304
    for (const auto& [network, endpoint] : c->endpoints) {
      if (e_.findNetwork(endpoint.network_id) == nullptr) {
        return Status::notFound("network " + network + " not found");
      }
    }
    e_.startLocked(*c, out);
  }
  e_.deliver(out);
  return Status::ok();
}

Status FakeContainers::stopContainer(const std::string& id, std::optional<int> /*timeout_s*/) {
  Pending out;
  {
    std::unique_lock<std::mutex> lock(e_.mu_);
    PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kStopContainer));
    Container* c = e_.findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    if (c->state != ContainerState::kRunning) return Status::ok();  // 304
    if (e_.hold_stops_) {
      std::string name = c->name;
      uint64_t release = e_.stop_release_;
      e_.held_stops_.push_back(name);
      e_.stops_cv_.notify_all();
      e_.stops_cv_.wait(lock, [&] { return e_.stop_release_ != release; });
      e_.held_stops_.erase(std::find(e_.held_stops_.begin(), e_.held_stops_.end(), name));
      c = e_.findContainer(id);
      if (c == nullptr) return Status::notFound("No such container: " + id);
      if (c->state != ContainerState::kRunning) return Status::ok();
    }
    c->stopped_by_user = true;
    e_.emit(out, "container", "kill", c->id, withSignal(e_.containerAttributes(*c), "15"));
    e_.exitLocked(*c, 0, out);
    e_.emit(out, "container", "stop", c->id, e_.containerAttributes(*c));
  }
  e_.deliver(out);
  return Status::ok();
}

void FakeContainers::holdStops(bool hold) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  e_.hold_stops_ = hold;
  if (!hold) ++e_.stop_release_;
  e_.stops_cv_.notify_all();
}

void FakeContainers::releaseStops() {
  std::lock_guard<std::mutex> lock(e_.mu_);
  ++e_.stop_release_;
  e_.stops_cv_.notify_all();
}

std::vector<std::string> FakeContainers::heldStops() const {
  std::lock_guard<std::mutex> lock(e_.mu_);
  return e_.held_stops_;
}

bool FakeContainers::waitForHeldStops(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(e_.mu_);
  return e_.stops_cv_.wait_for(lock, timeout, [&] { return e_.held_stops_.size() >= count; });
}

Status FakeContainers::restartContainer(const std::string& id, std::optional<int> /*timeout*/) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kRestartContainer));
    Container* c = e_.findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    if (c->state == ContainerState::kRunning) {
      e_.emit(out, "container", "kill", c->id, withSignal(e_.containerAttributes(*c), "15"));
      e_.exitLocked(*c, 0, out);
      e_.emit(out, "container", "stop", c->id, e_.containerAttributes(*c));
    }
    e_.startLocked(*c, out);
    e_.emit(out, "container", "restart", c->id, e_.containerAttributes(*c));
  }
  e_.deliver(out);
  return Status::ok();
}

Status FakeContainers::killContainer(const std::string& id, const std::string& signal) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kKillContainer));
    int number = signalNumber(signal);
    if (number < 0) return Status::invalidArgument("Invalid signal: " + signal);
    Container* c = e_.findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    if (c->state != ContainerState::kRunning) {
      return Status::conflict("Cannot kill container: " + id + ": Container " + c->id +
                              " is not running");
    }
    e_.emit(out, "container", "kill", c->id,
            withSignal(e_.containerAttributes(*c), std::to_string(number)));
    // The test image traps TERM/INT and exits 0; other signals end it with 128+n. SIGKILL
    // through the API does not trigger the restart policy (the engine's ExitOnNext).
    int exit_code = (number == 15 || number == 2) ? 0 : 128 + number;
    if (number == 9) c->stopped_by_user = true;
    e_.exitLocked(*c, exit_code, out);
    if (number != 9 && e_.shouldRestart(*c)) {
      ++c->restart_count;
      e_.startLocked(*c, out);
    }
  }
  e_.deliver(out);
  return Status::ok();
}

Status FakeContainers::removeContainer(const std::string& id, bool force, bool volumes) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kRemoveContainer));
    Container* c = e_.findContainer(id);
    if (c == nullptr) return Status::notFound("No such container: " + id);
    if (c->state == ContainerState::kRunning) {
      if (!force) {
        return Status::conflict("You cannot remove a running container " + c->id +
                                ". Stop the container before attempting removal or force remove");
      }
      e_.emit(out, "container", "kill", c->id, withSignal(e_.containerAttributes(*c), "9"));
      c->stopped_by_user = true;
      e_.exitLocked(*c, 137, out);
    }
    std::vector<MountedVolume> mounted = c->volumes;
    e_.removeContainerLocked(c->id, out);
    for (const MountedVolume& v : mounted) {  // rm -v: what was made for it, when unused
      if (!volumes || !v.anonymous || e_.volumeInUseLocked(v.name)) continue;
      auto it = e_.volumes_.find(v.name);
      if (it == e_.volumes_.end()) continue;
      e_.emit(out, "volume", "destroy", v.name, {{"driver", it->second.driver}});
      e_.volumes_.erase(it);
    }
  }
  e_.deliver(out);
  return Status::ok();
}

bool FakeEngine::volumeInUseLocked(const std::string& name) const {
  for (const auto& [id, c] : containers_) {
    for (const MountedVolume& v : c.volumes) {
      if (v.name == name) return true;
    }
  }
  return false;
}

Status FakeEngine::mountVolumesLocked(Container& c, const Json& body, const Image& image,
                                      Pending& out) {
  const Json& host = jsonObj(body, "HostConfig");
  std::set<std::string> taken;  // container paths with a bind, volume or tmpfs
  auto use = [&](const std::string& name, const std::string& path, bool anonymous) {
    if (volumes_.count(name) == 0) {
      Volume vol;
      vol.name = name;
      vol.driver = "local";
      vol.created_ms = nowMs();
      volumes_[name] = vol;
      emit(out, "volume", "create", name, {{"driver", "local"}});
    }
    c.volumes.push_back({name, path, anonymous});
    taken.insert(path);
  };
  std::vector<std::pair<std::string, std::string>> named;  // name, path
  for (const auto& bind : jsonStrings(jsonObj(host, "Binds"))) {
    const size_t colon = bind.find(':');
    const std::string source = bind.substr(0, colon);
    const std::string rest = colon == std::string::npos ? "" : bind.substr(colon + 1);
    const std::string path = rest.substr(0, rest.find(':'));
    if (!source.empty() && source[0] != '/') {
      named.emplace_back(source, path);
    } else {
      taken.insert(path);
    }
  }
  const Json& mounts = jsonObj(host, "Mounts");
  std::vector<std::string> anonymous_mounts;
  if (mounts.is_array()) {
    for (const auto& m : mounts) {
      const std::string type = jsonStr(m, "Type");
      const std::string source = jsonStr(m, "Source");
      const std::string target = jsonStr(m, "Target");
      if (type == "bind" && ::access(source.c_str(), F_OK) != 0) {
        return Status::invalidArgument(
            "invalid mount config for type \"bind\": bind source path "
            "does not exist: " +
            source);
      }
      if (type == "volume" && source.empty()) {
        anonymous_mounts.push_back(target);
      } else if (type == "volume") {
        named.emplace_back(source, target);
      } else {
        taken.insert(target);
      }
    }
  }
  if (const Json& tmpfs = jsonObj(host, "Tmpfs"); tmpfs.is_object()) {
    for (auto it = tmpfs.begin(); it != tmpfs.end(); ++it) taken.insert(it.key());
  }
  for (const auto& [name, path] : named) use(name, path, false);
  for (const auto& path : anonymous_mounts) use(fakeHexId(c.id + path), path, true);
  std::vector<std::string> declared = image.volume_paths;
  if (const Json& volumes = jsonObj(body, "Volumes"); volumes.is_object()) {
    for (auto it = volumes.begin(); it != volumes.end(); ++it) declared.push_back(it.key());
  }
  for (const auto& path : declared) {
    if (taken.count(path) == 0) use(fakeHexId(c.id + path), path, true);
  }
  return Status::ok();
}

Result<ContainerInfo> FakeContainers::inspectContainer(const std::string& id_or_name) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kInspectContainer));
  Container* c = e_.findContainer(id_or_name);
  if (c == nullptr) return Status::notFound("No such container: " + id_or_name);
  return e_.containerInfoLocked(*c);
}

Result<std::vector<ContainerSummary>> FakeContainers::listContainers(
    const std::vector<std::string>& label_filters, bool all) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kListContainers));
  std::vector<ContainerSummary> out;
  for (const auto& [id, c] : e_.containers_) {
    if (!all && c.state != ContainerState::kRunning) continue;
    if (!labelsMatch(c.labels, label_filters)) continue;
    ContainerSummary s;
    s.id = c.id;
    s.name = c.name;
    s.image = c.image_ref;
    s.image_id = c.image_id;
    s.state = c.state;
    if (c.state == ContainerState::kRunning) {
      s.status = "Up";
      if (!c.health.empty()) s.status += " (" + c.health + ")";
    } else if (c.state == ContainerState::kExited) {
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

Result<int> FakeContainers::waitContainer(const std::string& id,
                                          std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(e_.mu_);
  PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kWaitContainer));
  Container* c = e_.findContainer(id);
  if (c == nullptr) return Status::notFound("No such container: " + id);
  std::string full_id = c->id;
  int exits = c->exits;
  // Like condition=not-running: returns at the next exit even when a restart policy starts
  // the container again at once.
  bool done = e_.changed_.wait_for(lock, timeout, [&] {
    auto it = e_.containers_.find(full_id);
    return it == e_.containers_.end() || it->second.state != ContainerState::kRunning ||
           it->second.exits != exits;
  });
  if (!done) return Status::unavailable("waiting for container " + id + " timed out");
  auto it = e_.containers_.find(full_id);
  if (it == e_.containers_.end()) return Status::notFound("No such container: " + id);
  return it->second.last_exit_code;
}

Result<std::string> FakeContainers::containerLogs(const std::string& id,
                                                  const LogOptions& options) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kContainerLogs));
  Container* c = e_.findContainer(id);
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

Result<ContainerStats> FakeContainers::containerStats(const std::string& id, bool /*one_shot*/) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kContainerStats));
  Container* c = e_.findContainer(id);
  if (c == nullptr) return Status::notFound("No such container: " + id);
  if (c->state != ContainerState::kRunning) return ContainerStats{};
  return c->stats;
}

ContainerInfo FakeEngine::containerInfoLocked(const Container& c) const {
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
  Json state = {
      {"Status", toWire(c.state)},
      {"Running", c.state == ContainerState::kRunning},
      {"Paused", false},
      {"Restarting", false},
      {"OOMKilled", c.oom_killed},
      {"Dead", false},
      {"Pid",
       c.state == ContainerState::kRunning ? 1000 + static_cast<int>(c.created_ms % 30000) : 0},
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
                      {"Name", v.name},
                      {"Source", "/var/lib/docker/volumes/" + v.name + "/_data"},
                      {"Destination", v.path},
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
