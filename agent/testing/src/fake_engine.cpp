// FakeEngine: the shared state's bookkeeping (calls and injected failures, ids, time, event
// emission and delivery), image references and tags, network attachments, and the inspect
// answers of networks and volumes (fake_engine.h). The container state machine is in
// fake_docker_containers.cpp.
#include "fake_engine.h"

#include <algorithm>
#include <chrono>

#include "docker_json.h"
#include "fake_docker_util.h"

namespace pharos::agent {

namespace {

bool matches(const EventFilter& filter, const DockerEvent& e) {
  if (!filter.types.empty() &&
      std::find(filter.types.begin(), filter.types.end(), e.type) == filter.types.end()) {
    return false;
  }
  return labelsMatch(e.attributes, filter.labels);
}

}  // namespace

FakeEngine::FakeEngine(const Clock* clock) : clock_(clock) {
  for (const char* name : {"bridge", "host", "none"}) {
    Network n;
    n.id = fakeHexId(std::string("network/") + name);
    n.name = name;
    n.driver = std::string(name) == "none" ? "null" : name;
    n.builtin = true;
    networks_[n.id] = std::move(n);
  }
}

Status FakeEngine::enter(DockerOp op) {
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

int64_t FakeEngine::nowMs() const {
  if (clock_ != nullptr) return clock_->nowMs();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FakeEngine::newId() { return fakeHexId("object/" + std::to_string(next_id_++)); }

void FakeEngine::emit(Pending& out, const std::string& type, const std::string& action,
                      const std::string& id, Labels attributes) {
  DockerEvent e;
  e.type = type;
  e.action = action;
  e.id = id;
  e.attributes = std::move(attributes);
  e.time_nano = nowMs() * 1'000'000;
  out.push_back(std::move(e));
}

void FakeEngine::deliver(const Pending& events) {
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

void FakeEngine::deliverState(const Status& status) {
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

std::string FakeEngine::normalizeRef(const std::string& reference) const {
  std::string ref = parseImageRef(reference).str();
  for (const char* prefix : {"docker.io/library/", "docker.io/"}) {
    std::string p(prefix);
    if (ref.rfind(p, 0) == 0) return ref.substr(p.size());
  }
  return ref;
}

FakeEngine::Image* FakeEngine::findImage(const std::string& reference_or_id) {
  std::string key = reference_or_id;
  if (key.rfind("sha256:", 0) == 0) key = key.substr(7);
  if (auto it = images_.find("sha256:" + key); it != images_.end()) return &it->second;
  if (auto t = tags_.find(normalizeRef(reference_or_id)); t != tags_.end()) {
    return &images_.at(t->second);
  }
  bool hex = key.size() >= 6 && key.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (hex) {
    auto it = images_.lower_bound("sha256:" + key);
    if (it != images_.end() && it->first.compare(7, key.size(), key) == 0) return &it->second;
  }
  return nullptr;
}

void FakeEngine::tagLocked(const std::string& ref, Image image) {
  auto old = tags_.find(ref);
  if (old != tags_.end() && old->second != image.id) {
    auto& tags = images_.at(old->second).tags;
    tags.erase(std::remove(tags.begin(), tags.end(), ref), tags.end());
  }
  auto [it, inserted] = images_.try_emplace(image.id, std::move(image));
  (void)inserted;
  if (std::find(it->second.tags.begin(), it->second.tags.end(), ref) == it->second.tags.end()) {
    it->second.tags.push_back(ref);
  }
  tags_[ref] = it->first;
}

void FakeEngine::untagLocked(const std::string& ref, Pending& out) {
  auto t = tags_.find(ref);
  if (t == tags_.end()) return;
  std::string id = t->second;
  tags_.erase(t);
  Image& image = images_.at(id);
  image.tags.erase(std::remove(image.tags.begin(), image.tags.end(), ref), image.tags.end());
  emit(out, "image", "untag", id, {{"name", ref}});
  if (!image.tags.empty()) return;
  bool used = std::any_of(containers_.begin(), containers_.end(),
                          [&](const auto& kv) { return kv.second.image_id == id; });
  if (!used) {
    images_.erase(id);
    emit(out, "image", "delete", id, {{"name", id}});
  }
}

FakeEngine::Network* FakeEngine::findNetwork(const std::string& id_or_name) {
  if (auto it = networks_.find(id_or_name); it != networks_.end()) return &it->second;
  for (auto& [id, n] : networks_) {
    if (n.name == id_or_name) return &n;
  }
  if (id_or_name.size() >= 6) {
    auto it = networks_.lower_bound(id_or_name);
    if (it != networks_.end() && it->first.compare(0, id_or_name.size(), id_or_name) == 0) {
      return &it->second;
    }
  }
  return nullptr;
}

Status FakeEngine::attachLocked(Container& c, const std::string& network,
                                const Json& endpoint_config, Pending& out) {
  Network* n = findNetwork(network);
  if (n == nullptr) return Status::notFound("network " + network + " not found");
  if (c.endpoints.count(n->name) != 0) {
    return Status::alreadyExists("endpoint with name " + c.name + " already exists in network " +
                                 n->name);
  }
  Endpoint e;
  e.network_id = n->id;
  e.aliases = jsonStrings(jsonObj(endpoint_config, "Aliases"));
  c.endpoints[n->name] = std::move(e);
  emit(out, "network", "connect", n->id,
       {{"name", n->name}, {"type", n->driver}, {"container", c.id}});
  return Status::ok();
}

NetworkInfo FakeEngine::networkInfoLocked(const Network& n) const {
  Json containers = Json::object();
  for (const auto& [id, c] : containers_) {
    auto e = c.endpoints.find(n.name);
    if (e != c.endpoints.end() && c.state == ContainerState::kRunning) {
      containers[id] = {{"Name", c.name}, {"IPv4Address", e->second.ip + "/16"}};
    }
  }
  Json raw = n.body.is_object() ? n.body : Json::object();
  raw["Name"] = n.name;
  raw["Id"] = n.id;
  raw["Driver"] = n.driver;
  raw["Internal"] = n.internal;
  raw["Scope"] = "local";
  raw["Labels"] = n.labels;
  raw["Created"] = rfc3339(n.created_ms);
  raw["Containers"] = std::move(containers);
  raw.erase("CheckDuplicate");
  return networkInfoFromJson(std::move(raw));
}

VolumeInfo FakeEngine::volumeInfoLocked(const Volume& v) const {
  Json raw = {{"Name", v.name},
              {"Driver", v.driver},
              {"Mountpoint", "/var/lib/docker/volumes/" + v.name + "/_data"},
              {"Labels", v.labels},
              {"Scope", "local"},
              {"Options",
               jsonObj(v.body, "DriverOpts").is_object() ? v.body["DriverOpts"] : Json::object()},
              {"CreatedAt", rfc3339(v.created_ms)}};
  return volumeInfoFromJson(std::move(raw));
}

}  // namespace pharos::agent
