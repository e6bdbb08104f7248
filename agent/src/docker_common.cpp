// Helpers shared by the real and the fake Docker clients: image references, registry auth
// encoding, DOCKER_HOST resolution and typed views of the engine's JSON documents.
// Pure functions: thread-safe.
#include <cstdlib>
#include <string>

#include "agent/docker_client.h"
#include "docker_json.h"

namespace pharos::agent {

std::string ImageRef::registry() const {
  auto slash = repository.find('/');
  if (slash == std::string::npos) return "docker.io";
  std::string first = repository.substr(0, slash);
  if (first.find('.') != std::string::npos || first.find(':') != std::string::npos ||
      first == "localhost") {
    return first;
  }
  return "docker.io";
}

std::string ImageRef::str() const {
  if (!digest.empty()) return repository + "@" + digest;
  return repository + ":" + (tag.empty() ? "latest" : tag);
}

ImageRef parseImageRef(const std::string& reference) {
  ImageRef ref;
  std::string rest = reference;
  auto at = rest.find('@');
  if (at != std::string::npos) {
    ref.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
  }
  auto slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    ref.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  ref.repository = rest;
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

namespace {
std::string base64Url(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}
}  // namespace

std::string encodeRegistryAuth(const RegistryAuth& auth) {
  Json doc = {{"username", auth.username},
              {"password", auth.password},
              {"serveraddress", auth.server_address}};
  return base64Url(dumpJson(doc));
}

Result<std::string> dockerSocketPath(const std::string& docker_host) {
  std::string host = docker_host;
  if (host.empty()) {
    const char* env = std::getenv("DOCKER_HOST");  // NOLINT(concurrency-mt-unsafe)
    if (env != nullptr) host = env;
  }
  if (host.empty()) return std::string("/var/run/docker.sock");
  constexpr std::string_view kUnix = "unix://";
  if (host.rfind(kUnix, 0) != 0 || host.size() == kUnix.size()) {
    return Status::invalidArgument("DOCKER_HOST " + host +
                                   ": only unix:///path/to/docker.sock is supported");
  }
  return host.substr(kUnix.size());
}

// --- typed views of engine documents

std::string jsonStr(const Json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t jsonInt(const Json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  return it->is_number_float() ? static_cast<int64_t>(it->get<double>()) : it->get<int64_t>();
}

uint64_t jsonU64(const Json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer())
    return static_cast<uint64_t>(std::max<int64_t>(0, it->get<int64_t>()));
  return static_cast<uint64_t>(std::max(0.0, it->get<double>()));
}

bool jsonBool(const Json& j, const char* key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

const Json& jsonObj(const Json& j, const char* key) {
  static const Json kNull;  // NOLINT: immutable empty value
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it != j.end() ? *it : kNull;
}

Labels jsonLabels(const Json& j) {
  Labels out;
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it->is_string()) out[it.key()] = it->get<std::string>();
  }
  return out;
}

std::vector<std::string> jsonStrings(const Json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

namespace {
// The engine's container state. A state this agent does not know (a newer engine) reads as
// none: the agent acts on `running`/`restarting` and reports the rest.
ContainerState containerState(const std::string& name) {
  return fromWire<ContainerState>(name).value_or(ContainerState::kNone);
}
}  // namespace

Result<ContainerInfo> containerInfoFromJson(Json raw) {
  if (!raw.is_object() || jsonStr(raw, "Id").empty()) {
    return Status::internal("container inspect: engine answered without an Id");
  }
  ContainerInfo info;
  info.id = jsonStr(raw, "Id");
  info.name = jsonStr(raw, "Name");
  if (!info.name.empty() && info.name[0] == '/') info.name.erase(0, 1);
  info.image_id = jsonStr(raw, "Image");
  info.restart_count = static_cast<int>(jsonInt(raw, "RestartCount"));
  const Json& config = jsonObj(raw, "Config");
  info.image = jsonStr(config, "Image");
  info.labels = jsonLabels(jsonObj(config, "Labels"));
  const Json& state = jsonObj(raw, "State");
  info.state = containerState(jsonStr(state, "Status"));
  info.running = jsonBool(state, "Running");
  info.restarting = jsonBool(state, "Restarting");
  info.oom_killed = jsonBool(state, "OOMKilled");
  info.exit_code = static_cast<int>(jsonInt(state, "ExitCode"));
  info.error = jsonStr(state, "Error");
  info.started_at = jsonStr(state, "StartedAt");
  info.finished_at = jsonStr(state, "FinishedAt");
  info.health = jsonStr(jsonObj(state, "Health"), "Status");
  info.raw = std::move(raw);
  return info;
}

ImageInfo imageInfoFromJson(Json raw) {
  ImageInfo info;
  info.id = jsonStr(raw, "Id");
  info.repo_tags = jsonStrings(jsonObj(raw, "RepoTags"));
  info.repo_digests = jsonStrings(jsonObj(raw, "RepoDigests"));
  // inspect: Config.Labels; list: Labels.
  const Json& config = jsonObj(raw, "Config");
  info.labels = config.is_object() ? jsonLabels(jsonObj(config, "Labels"))
                                   : jsonLabels(jsonObj(raw, "Labels"));
  info.size = jsonInt(raw, "Size");
  info.raw = std::move(raw);
  return info;
}

ContainerSummary containerSummaryFromJson(const Json& raw) {
  ContainerSummary s;
  s.id = jsonStr(raw, "Id");
  auto names = jsonStrings(jsonObj(raw, "Names"));
  if (!names.empty()) {
    s.name = names.front();
    if (!s.name.empty() && s.name[0] == '/') s.name.erase(0, 1);
  }
  s.image = jsonStr(raw, "Image");
  s.image_id = jsonStr(raw, "ImageID");
  s.state = containerState(jsonStr(raw, "State"));
  s.status = jsonStr(raw, "Status");
  s.labels = jsonLabels(jsonObj(raw, "Labels"));
  s.created = jsonInt(raw, "Created");
  return s;
}

NetworkInfo networkInfoFromJson(Json raw) {
  NetworkInfo n;
  n.id = jsonStr(raw, "Id");
  n.name = jsonStr(raw, "Name");
  n.driver = jsonStr(raw, "Driver");
  n.internal = jsonBool(raw, "Internal");
  n.labels = jsonLabels(jsonObj(raw, "Labels"));
  const Json& containers = jsonObj(raw, "Containers");
  if (containers.is_object()) {
    for (auto it = containers.begin(); it != containers.end(); ++it)
      n.containers.push_back(it.key());
  }
  n.raw = std::move(raw);
  return n;
}

VolumeInfo volumeInfoFromJson(Json raw) {
  VolumeInfo v;
  v.name = jsonStr(raw, "Name");
  v.driver = jsonStr(raw, "Driver");
  v.mountpoint = jsonStr(raw, "Mountpoint");
  v.labels = jsonLabels(jsonObj(raw, "Labels"));
  v.raw = std::move(raw);
  return v;
}

Json labelFilterJson(const std::vector<std::string>& label_filters) {
  Json filters = Json::object();
  if (!label_filters.empty()) filters["label"] = label_filters;
  return filters;
}

bool labelsMatch(const Labels& labels, const std::vector<std::string>& label_filters) {
  for (const auto& f : label_filters) {
    auto eq = f.find('=');
    if (eq == std::string::npos) {
      if (labels.count(f) == 0) return false;
    } else {
      auto it = labels.find(f.substr(0, eq));
      if (it == labels.end() || it->second != f.substr(eq + 1)) return false;
    }
  }
  return true;
}

}  // namespace pharos::agent
