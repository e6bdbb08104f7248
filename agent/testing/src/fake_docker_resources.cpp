// FakeImages, FakeNetworks, FakeVolumes and the registry controls of FakeDockerClient:
// images (a simulated registry, local tags, removal rules), networks
// (built-in bridge/host/none, attachments, aliases) and volumes (created on demand, in-use
// checks), with the engine's error codes and messages. Same locking as fake_engine.h.
#include <algorithm>

#include "agent/fake_docker.h"
#include "docker_json.h"
#include "fake_docker_util.h"
#include "fake_engine.h"

namespace pharos::agent {

// --- images

void FakeDockerClient::addRegistryImage(const std::string& reference, const Labels& labels,
                                        const std::vector<std::string>& volumes) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  std::string ref = e_.normalizeRef(reference);
  Image image;
  std::string seed = "image/" + ref;
  for (const auto& [k, v] : labels) seed += "\n" + k + "=" + v;
  for (const auto& path : volumes) seed += "\nVOLUME " + path;
  image.id = "sha256:" + fakeHexId(seed);
  image.labels = labels;
  image.volume_paths = volumes;
  image.created_ms = e_.nowMs();
  e_.registry_[ref] = std::move(image);
}

void FakeDockerClient::setPullFailure(const std::string& reference, Status status) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  if (status.isOk()) {
    e_.pull_failures_.erase(e_.normalizeRef(reference));
  } else {
    e_.pull_failures_[e_.normalizeRef(reference)] = std::move(status);
  }
}

void FakeDockerClient::addLocalImage(const std::string& reference, const Labels& labels) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  std::string ref = e_.normalizeRef(reference);
  Image image;
  std::string seed = "image/" + ref;
  for (const auto& [k, v] : labels) seed += "\n" + k + "=" + v;
  image.id = "sha256:" + fakeHexId(seed);
  image.labels = labels;
  image.created_ms = e_.nowMs();
  e_.tagLocked(ref, std::move(image));
}

void FakeDockerClient::deleteImageBehindBack(const std::string& reference) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    e_.untagLocked(e_.normalizeRef(reference), out);
  }
  e_.deliver(out);
}

std::optional<RegistryAuth> FakeDockerClient::lastPullAuth(const std::string& reference) const {
  std::lock_guard<std::mutex> lock(e_.mu_);
  auto it = e_.pull_auths_.find(e_.normalizeRef(reference));
  return it == e_.pull_auths_.end() ? std::nullopt : it->second;
}

Status FakeImages::pullImage(const std::string& reference,
                             const std::optional<RegistryAuth>& auth) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kPullImage));
    std::string ref = e_.normalizeRef(reference);
    e_.pull_auths_[ref] = auth;
    if (auto f = e_.pull_failures_.find(ref); f != e_.pull_failures_.end()) return f->second;
    auto it = e_.registry_.find(ref);
    if (it == e_.registry_.end()) {
      ImageRef parsed = parseImageRef(reference);
      if (parsed.registry() == "docker.io") {
        return Status::notFound("pull access denied for " + parsed.repository +
                                ", repository does not exist or may require 'docker login': "
                                "denied: requested access to the resource is denied");
      }
      return Status::notFound("manifest for " + ref +
                              " not found: manifest unknown: manifest unknown");
    }
    Image image = it->second;
    image.tags.clear();
    if (auto existing = e_.images_.find(image.id); existing != e_.images_.end()) {
      image = existing->second;
    }
    e_.tagLocked(ref, std::move(image));
    Labels attributes = it->second.labels;
    attributes["name"] = ref;
    e_.emit(out, "image", "pull", ref, std::move(attributes));
  }
  e_.deliver(out);
  return Status::ok();
}

namespace {
Json imageJson(const std::string& id, const std::vector<std::string>& tags, const Labels& labels,
               const std::string& created, const std::vector<std::string>& volume_paths = {}) {
  Json out{{"Id", id},
           {"RepoTags", tags},
           {"RepoDigests", Json::array()},
           {"Created", created},
           {"Size", 2'000'000},
           {"Config",
            {{"Labels", labels},
             {"Env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}}}};
  for (const auto& path : volume_paths) out["Config"]["Volumes"][path] = Json::object();
  return out;
}
}  // namespace

Result<ImageInfo> FakeImages::inspectImage(const std::string& reference_or_id) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kInspectImage));
  Image* image = e_.findImage(reference_or_id);
  if (image == nullptr) return Status::notFound("No such image: " + reference_or_id);
  return imageInfoFromJson(imageJson(image->id, image->tags, image->labels,
                                     rfc3339(image->created_ms), image->volume_paths));
}

Status FakeImages::removeImage(const std::string& reference_or_id, bool force) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kRemoveImage));
    Image* image = e_.findImage(reference_or_id);
    if (image == nullptr) return Status::notFound("No such image: " + reference_or_id);
    std::string id = image->id;
    const Container* user = nullptr;
    for (const auto& [cid, c] : e_.containers_) {
      if (c.image_id == id && (user == nullptr || c.state == ContainerState::kRunning)) user = &c;
    }
    std::string ref = e_.normalizeRef(reference_or_id);
    bool by_tag = e_.tags_.count(ref) != 0 && e_.tags_.at(ref) == id;
    if (by_tag && image->tags.size() > 1) {
      e_.untagLocked(ref, out);  // other tags keep the image
    } else {
      if (!by_tag && image->tags.size() > 1 && !force) {
        return Status::conflict("conflict: unable to delete " + id.substr(7, 12) +
                                " (must be forced) - image is referenced in multiple "
                                "repositories");
      }
      if (user != nullptr && user->state == ContainerState::kRunning && !by_tag) {
        return Status::conflict("conflict: unable to delete " + id.substr(7, 12) +
                                " (cannot be forced) - image is being used by running container " +
                                user->id.substr(0, 12));
      }
      if (user != nullptr && !force) {
        return Status::conflict("conflict: unable to remove repository reference \"" +
                                reference_or_id + "\" (must force) - container " +
                                user->id.substr(0, 12) + " is using its referenced image " +
                                id.substr(7, 12));
      }
      std::vector<std::string> tags = image->tags;
      for (const auto& t : tags) e_.untagLocked(t, out);
      if (tags.empty() && user == nullptr) {
        e_.images_.erase(id);
        e_.emit(out, "image", "delete", id, {{"name", id}});
      }
    }
  }
  e_.deliver(out);
  return Status::ok();
}

Result<std::vector<ImageInfo>> FakeImages::listImages(const std::string& reference) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kListImages));
  std::vector<ImageInfo> out;
  for (const auto& [id, image] : e_.images_) {
    if (!reference.empty()) {
      // "repo" matches every tag of repo; "repo:tag" only that tag.
      std::string last = reference.substr(
          reference.rfind('/') == std::string::npos ? 0 : reference.rfind('/') + 1);
      bool has_tag =
          last.find(':') != std::string::npos || reference.find('@') != std::string::npos;
      std::string want = e_.normalizeRef(reference);
      std::string want_repo = parseImageRef(want).repository;
      bool match = std::any_of(image.tags.begin(), image.tags.end(), [&](const std::string& t) {
        return has_tag ? t == want : parseImageRef(t).repository == want_repo;
      });
      if (!match) continue;
    }
    Json raw = {{"Id", id},
                {"RepoTags", image.tags},
                {"RepoDigests", Json::array()},
                {"Labels", image.labels},
                {"Created", image.created_ms / 1000},
                {"Size", 2'000'000}};
    out.push_back(imageInfoFromJson(std::move(raw)));
  }
  return out;
}

// --- networks

Result<std::string> FakeNetworks::createNetwork(const Json& body) {
  Pending out;
  std::string id;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kCreateNetwork));
    std::string name = jsonStr(body, "Name");
    if (name.empty()) return Status::invalidArgument("network name is required");
    for (const auto& [nid, n] : e_.networks_) {
      if (n.name == name) {
        return Status::alreadyExists("network with name " + name + " already exists");
      }
    }
    Network n;
    n.id = e_.newId();
    n.name = name;
    n.driver = jsonStr(body, "Driver").empty() ? "bridge" : jsonStr(body, "Driver");
    n.internal = jsonBool(body, "Internal");
    n.labels = jsonLabels(jsonObj(body, "Labels"));
    n.body = body;
    n.created_ms = e_.nowMs();
    id = n.id;
    e_.emit(out, "network", "create", id, {{"name", name}, {"type", n.driver}});
    e_.networks_[id] = std::move(n);
  }
  e_.deliver(out);
  return id;
}

Status FakeNetworks::removeNetwork(const std::string& id_or_name) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kRemoveNetwork));
    Network* n = e_.findNetwork(id_or_name);
    if (n == nullptr) return Status::notFound("network " + id_or_name + " not found");
    if (n->builtin) {
      return Status::permissionDenied(n->name + " is a pre-defined network and cannot be removed");
    }
    for (const auto& [cid, c] : e_.containers_) {
      if (c.state == ContainerState::kRunning && c.endpoints.count(n->name) != 0) {
        return Status::conflict("error while removing network: network " + n->name + " id " +
                                n->id + " has active endpoints");
      }
    }
    e_.emit(out, "network", "destroy", n->id, {{"name", n->name}, {"type", n->driver}});
    e_.networks_.erase(n->id);
  }
  e_.deliver(out);
  return Status::ok();
}

Result<std::vector<NetworkInfo>> FakeNetworks::listNetworks(
    const std::vector<std::string>& label_filters) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kListNetworks));
  std::vector<NetworkInfo> out;
  for (const auto& [id, n] : e_.networks_) {
    if (labelsMatch(n.labels, label_filters)) out.push_back(e_.networkInfoLocked(n));
  }
  return out;
}

Result<NetworkInfo> FakeNetworks::inspectNetwork(const std::string& id_or_name) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kInspectNetwork));
  Network* n = e_.findNetwork(id_or_name);
  if (n == nullptr) return Status::notFound("network " + id_or_name + " not found");
  return e_.networkInfoLocked(*n);
}

Status FakeNetworks::connectNetwork(const std::string& network, const std::string& container,
                                    const Json& endpoint_config) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kConnectNetwork));
    Container* c = e_.findContainer(container);
    if (c == nullptr) return Status::notFound("No such container: " + container);
    PHAROS_RETURN_IF_ERROR(e_.attachLocked(*c, network, endpoint_config, out));
    if (c->state == ContainerState::kRunning) {
      Endpoint& e = c->endpoints.at(e_.findNetwork(network)->name);
      e.ip = "172.18." + std::to_string((e_.next_id_ >> 8) & 255) + "." +
             std::to_string(e_.next_id_ & 255);
      ++e_.next_id_;
    }
  }
  e_.deliver(out);
  return Status::ok();
}

Status FakeNetworks::disconnectNetwork(const std::string& network, const std::string& container,
                                       bool /*force*/) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kDisconnectNetwork));
    Network* n = e_.findNetwork(network);
    if (n == nullptr) return Status::notFound("network " + network + " not found");
    Container* c = e_.findContainer(container);
    if (c == nullptr) return Status::notFound("No such container: " + container);
    if (c->endpoints.erase(n->name) == 0) {
      return Status::conflict("container " + c->id + " is not connected to network " + n->name);
    }
    e_.emit(out, "network", "disconnect", n->id,
            {{"name", n->name}, {"type", n->driver}, {"container", c->id}});
  }
  e_.deliver(out);
  return Status::ok();
}

// --- volumes

Result<VolumeInfo> FakeVolumes::createVolume(const Json& body) {
  Pending out;
  VolumeInfo info;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kCreateVolume));
    std::string name = jsonStr(body, "Name");
    if (name.empty()) name = e_.newId();
    auto it = e_.volumes_.find(name);
    if (it == e_.volumes_.end()) {
      Volume v;
      v.name = name;
      v.driver = jsonStr(body, "Driver").empty() ? "local" : jsonStr(body, "Driver");
      v.labels = jsonLabels(jsonObj(body, "Labels"));
      v.body = body;
      v.created_ms = e_.nowMs();
      e_.emit(out, "volume", "create", name, {{"driver", v.driver}});
      it = e_.volumes_.emplace(name, std::move(v)).first;
    }
    info = e_.volumeInfoLocked(it->second);
  }
  e_.deliver(out);
  return info;
}

Status FakeVolumes::removeVolume(const std::string& name, bool force) {
  Pending out;
  {
    std::lock_guard<std::mutex> lock(e_.mu_);
    PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kRemoveVolume));
    auto it = e_.volumes_.find(name);
    if (it == e_.volumes_.end()) {
      if (force) return Status::ok();
      return Status::notFound("get " + name + ": no such volume");
    }
    std::vector<std::string> users;
    for (const auto& [cid, c] : e_.containers_) {
      for (const MountedVolume& v : c.volumes) {
        if (v.name == name) users.push_back(cid);
      }
    }
    if (!users.empty()) {
      std::string list;
      for (const auto& u : users) list += (list.empty() ? "" : " ") + u;
      return Status::conflict("remove " + name + ": volume is in use - [" + list + "]");
    }
    e_.emit(out, "volume", "destroy", name, {{"driver", it->second.driver}});
    e_.volumes_.erase(it);
  }
  e_.deliver(out);
  return Status::ok();
}

Result<std::vector<VolumeInfo>> FakeVolumes::listVolumes(
    const std::vector<std::string>& label_filters) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kListVolumes));
  std::vector<VolumeInfo> out;
  for (const auto& [name, v] : e_.volumes_) {
    if (labelsMatch(v.labels, label_filters)) out.push_back(e_.volumeInfoLocked(v));
  }
  return out;
}

Result<VolumeInfo> FakeVolumes::inspectVolume(const std::string& name) {
  std::lock_guard<std::mutex> lock(e_.mu_);
  PHAROS_RETURN_IF_ERROR(e_.enter(DockerOp::kInspectVolume));
  auto it = e_.volumes_.find(name);
  if (it == e_.volumes_.end()) return Status::notFound("get " + name + ": no such volume");
  return e_.volumeInfoLocked(it->second);
}

}  // namespace pharos::agent
