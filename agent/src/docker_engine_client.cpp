// The real DockerClient: Docker Engine API over the Unix socket. Every request after the
// first goes to /v<negotiated>/...; the version is negotiated lazily (GET /version) and
// renegotiated by version(). Thread-safe: the only shared state is the negotiated version
// prefix (guarded by mu_); each request opens its own connection (unix_http.cpp).
#include <algorithm>
#include <mutex>

#include "agent/docker_client.h"
#include "docker_http.h"
#include "docker_json.h"

namespace pharos::agent {
namespace {

std::string boolParam(bool v) { return v ? "1" : "0"; }

// Splits a multiplexed log stream (8-byte frame headers) into text.
std::string demultiplex(const std::string& raw) {
  std::string out;
  size_t pos = 0;
  while (pos + 8 <= raw.size()) {
    size_t len = (size_t(uint8_t(raw[pos + 4])) << 24) | (size_t(uint8_t(raw[pos + 5])) << 16) |
                 (size_t(uint8_t(raw[pos + 6])) << 8) | size_t(uint8_t(raw[pos + 7]));
    pos += 8;
    size_t take = std::min(len, raw.size() - pos);
    out.append(raw, pos, take);
    pos += take;
  }
  return out;
}

std::string capText(std::string text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  // Keep the end (the newest lines), starting at a line boundary when there is one.
  size_t start = text.size() - max_bytes;
  size_t nl = text.find('\n', start);
  if (nl != std::string::npos && nl + 1 < text.size()) start = nl + 1;
  return text.substr(start);
}

class EngineDockerClient final : public DockerClient {
 public:
  explicit EngineDockerClient(EngineDockerOptions options) : options_(std::move(options)) {
    auto path = dockerSocketPath(options_.docker_host);
    if (path.isOk()) {
      socket_ = *path;
    } else {
      init_error_ = path.status();
    }
  }

  Result<DockerVersion> version() override {
    PHAROS_RETURN_IF_ERROR(init_error_);
    auto v = fetchVersion(socket_, options_.request_timeout, options_.connect_timeout);
    if (v.isOk()) {
      std::lock_guard<std::mutex> lock(mu_);
      prefix_ = "/v" + v->api_version;
    }
    return v;
  }

  Status ping() override {
    PHAROS_RETURN_IF_ERROR(init_error_);
    HttpRequest r = req("GET", "/_ping");
    auto resp = httpCall(socket_, r);
    if (!resp.isOk()) return resp.status();
    if (resp->status != 200) return engineError(resp->status, resp->body);
    return Status::ok();
  }

  Result<Json> info() override { return getJson("/info"); }

  // --- images

  Status pullImage(const std::string& reference, const std::optional<RegistryAuth>& auth) override {
    ImageRef ref = parseImageRef(reference);
    std::string path = "/images/create?fromImage=" + urlEncode(ref.repository) +
                       "&tag=" + urlEncode(ref.digest.empty() ? ref.tag : ref.digest);
    HttpRequest r = req("POST", path);
    r.timeout = std::chrono::milliseconds(0);
    r.low_speed_time_s = std::max<long>(1, options_.pull_stall_timeout.count() / 1000);
    if (auth) {
      RegistryAuth a = *auth;
      if (a.server_address.empty()) a.server_address = ref.registry();
      r.headers.push_back("X-Registry-Auth: " + encodeRegistryAuth(a));
    }
    std::string pending;
    std::string stream_error;
    r.on_data = [&](std::string_view chunk) {
      pending.append(chunk);
      size_t nl;
      while ((nl = pending.find('\n')) != std::string::npos) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        checkPullLine(line, stream_error);
      }
      return pending.size() < (1u << 20);
    };
    auto resp = call(std::move(r));
    if (!resp.isOk()) return resp.status();
    if (resp->status != 200) return engineError(resp->status, resp->body);
    if (!pending.empty()) checkPullLine(pending, stream_error);
    if (!stream_error.empty()) return Status::internal(stream_error);
    return Status::ok();
  }

  Result<ImageInfo> inspectImage(const std::string& reference_or_id) override {
    auto doc = getJson("/images/" + urlEncode(reference_or_id, true) + "/json");
    if (!doc.isOk()) return doc.status();
    return imageInfoFromJson(std::move(*doc));
  }

  Status removeImage(const std::string& reference_or_id, bool force) override {
    return expectOk(call(req(
        "DELETE", "/images/" + urlEncode(reference_or_id, true) + "?force=" + boolParam(force))));
  }

  Result<std::vector<ImageInfo>> listImages(const std::string& reference) override {
    std::string path = "/images/json";
    if (!reference.empty()) {
      path += "?filters=" + urlEncode(dumpJson(Json{{"reference", {reference}}}));
    }
    auto doc = getJson(path);
    if (!doc.isOk()) return doc.status();
    std::vector<ImageInfo> out;
    if (doc->is_array()) {
      for (auto& item : *doc) out.push_back(imageInfoFromJson(std::move(item)));
    }
    return out;
  }

  // --- containers

  Result<std::string> createContainer(const std::string& name, const Json& body) override {
    std::string path = "/containers/create";
    if (!name.empty()) path += "?name=" + urlEncode(name);
    HttpRequest r = req("POST", path);
    r.body = dumpJson(body);
    auto resp = call(std::move(r));
    if (!resp.isOk()) return resp.status();
    if (resp->status != 201) {
      return engineError(resp->status, resp->body, Code::kAlreadyExists);
    }
    auto doc = parseJson(resp->body);
    if (!doc.isOk()) return doc.status().prefixed("container create answer");
    std::string id = jsonStr(*doc, "Id");
    if (id.empty()) return Status::internal("container create: engine answered without an Id");
    return id;
  }

  Status startContainer(const std::string& id) override {
    return expectOk(call(req("POST", "/containers/" + urlEncode(id) + "/start")));
  }

  Status stopContainer(const std::string& id, std::optional<int> timeout_s) override {
    std::string path = "/containers/" + urlEncode(id) + "/stop";
    HttpRequest r = req("POST", path);
    if (timeout_s) {
      r.path += "?t=" + std::to_string(*timeout_s);
      r.timeout = std::chrono::seconds(*timeout_s) + options_.request_timeout;
    } else {
      r.timeout = std::chrono::minutes(15);
    }
    return expectOk(call(std::move(r)));
  }

  Status restartContainer(const std::string& id, std::optional<int> timeout_s) override {
    HttpRequest r = req("POST", "/containers/" + urlEncode(id) + "/restart");
    if (timeout_s) {
      r.path += "?t=" + std::to_string(*timeout_s);
      r.timeout = std::chrono::seconds(*timeout_s) + options_.request_timeout;
    } else {
      r.timeout = std::chrono::minutes(15);
    }
    return expectOk(call(std::move(r)));
  }

  Status killContainer(const std::string& id, const std::string& signal) override {
    return expectOk(
        call(req("POST", "/containers/" + urlEncode(id) + "/kill?signal=" + urlEncode(signal))));
  }

  Status removeContainer(const std::string& id, bool force, bool volumes) override {
    return expectOk(call(req("DELETE", "/containers/" + urlEncode(id) + "?force=" +
                                           boolParam(force) + "&v=" + boolParam(volumes))));
  }

  Result<ContainerInfo> inspectContainer(const std::string& id_or_name) override {
    auto doc = getJson("/containers/" + urlEncode(id_or_name) + "/json");
    if (!doc.isOk()) return doc.status();
    return containerInfoFromJson(std::move(*doc));
  }

  Result<std::vector<ContainerSummary>> listContainers(
      const std::vector<std::string>& label_filters, bool all) override {
    std::string path = "/containers/json?all=" + boolParam(all);
    if (!label_filters.empty()) {
      path += "&filters=" + urlEncode(dumpJson(labelFilterJson(label_filters)));
    }
    auto doc = getJson(path);
    if (!doc.isOk()) return doc.status();
    std::vector<ContainerSummary> out;
    if (doc->is_array()) {
      for (const auto& item : *doc) out.push_back(containerSummaryFromJson(item));
    }
    return out;
  }

  Result<int> waitContainer(const std::string& id, std::chrono::milliseconds timeout) override {
    HttpRequest r = req("POST", "/containers/" + urlEncode(id) + "/wait?condition=not-running");
    r.timeout = timeout;
    auto resp = call(std::move(r));
    if (!resp.isOk()) return resp.status();
    if (resp->status != 200) return engineError(resp->status, resp->body);
    auto doc = parseJson(resp->body);
    if (!doc.isOk()) return doc.status().prefixed("container wait answer");
    std::string error = jsonStr(jsonObj(*doc, "Error"), "Message");
    if (!error.empty()) return Status::internal(error);
    return static_cast<int>(jsonInt(*doc, "StatusCode"));
  }

  Result<std::string> containerLogs(const std::string& id, const LogOptions& options) override {
    auto info = inspectContainer(id);
    if (!info.isOk()) return info.status();
    bool tty = jsonBool(jsonObj(info->raw, "Config"), "Tty");
    std::string path = "/containers/" + urlEncode(info->id) +
                       "/logs?stdout=" + boolParam(options.stdout_stream) +
                       "&stderr=" + boolParam(options.stderr_stream) +
                       "&timestamps=" + boolParam(options.timestamps);
    path += "&tail=" + (options.tail < 0 ? std::string("all") : std::to_string(options.tail));
    if (options.since > 0) path += "&since=" + std::to_string(options.since);
    auto resp = call(req("GET", path));
    if (!resp.isOk()) return resp.status();
    if (resp->status != 200) return engineError(resp->status, resp->body);
    return capText(tty ? std::move(resp->body) : demultiplex(resp->body), options.max_bytes);
  }

  Result<ContainerStats> containerStats(const std::string& id, bool one_shot) override {
    auto doc = getJson("/containers/" + urlEncode(id) + "/stats?stream=0" +
                       (one_shot ? "&one-shot=1" : ""));
    if (!doc.isOk()) return doc.status();
    return statsFromJson(*doc);
  }

  // --- networks

  Result<std::string> createNetwork(const Json& body) override {
    Json doc = body;
    if (doc.is_object() && !doc.contains("CheckDuplicate")) doc["CheckDuplicate"] = true;
    HttpRequest r = req("POST", "/networks/create");
    r.body = dumpJson(doc);
    auto resp = call(std::move(r));
    if (!resp.isOk()) return resp.status();
    if (resp->status != 201 && resp->status != 200) {
      return engineError(resp->status, resp->body, Code::kAlreadyExists);
    }
    auto answer = parseJson(resp->body);
    if (!answer.isOk()) return answer.status().prefixed("network create answer");
    return jsonStr(*answer, "Id");
  }

  Status removeNetwork(const std::string& id_or_name) override {
    auto resp = call(req("DELETE", "/networks/" + urlEncode(id_or_name)));
    Status s = expectOk(resp);
    // The engine answers 403 for "network ... has active endpoints": a conflict.
    if (!s.isOk() && resp.isOk() && resp->status == 403 &&
        s.message().find("active endpoints") != std::string::npos) {
      return Status::conflict(s.message());
    }
    return s;
  }

  Result<std::vector<NetworkInfo>> listNetworks(
      const std::vector<std::string>& label_filters) override {
    std::string path = "/networks";
    if (!label_filters.empty()) {
      path += "?filters=" + urlEncode(dumpJson(labelFilterJson(label_filters)));
    }
    auto doc = getJson(path);
    if (!doc.isOk()) return doc.status();
    std::vector<NetworkInfo> out;
    if (doc->is_array()) {
      for (auto& item : *doc) out.push_back(networkInfoFromJson(std::move(item)));
    }
    return out;
  }

  Result<NetworkInfo> inspectNetwork(const std::string& id_or_name) override {
    auto doc = getJson("/networks/" + urlEncode(id_or_name));
    if (!doc.isOk()) return doc.status();
    return networkInfoFromJson(std::move(*doc));
  }

  Status connectNetwork(const std::string& network, const std::string& container,
                        const Json& endpoint_config) override {
    HttpRequest r = req("POST", "/networks/" + urlEncode(network) + "/connect");
    Json body = {{"Container", container}};
    if (endpoint_config.is_object() && !endpoint_config.empty()) {
      body["EndpointConfig"] = endpoint_config;
    }
    r.body = dumpJson(body);
    auto resp = call(std::move(r));
    if (!resp.isOk()) return resp.status();
    if (resp->status >= 200 && resp->status < 300) return Status::ok();
    Status s = engineError(resp->status, resp->body);
    // The engine answers 403 for "endpoint ... already exists in network ...".
    if (resp->status == 403 && s.message().find("already exists") != std::string::npos) {
      return Status::alreadyExists(s.message());
    }
    return s;
  }

  Status disconnectNetwork(const std::string& network, const std::string& container,
                           bool force) override {
    HttpRequest r = req("POST", "/networks/" + urlEncode(network) + "/disconnect");
    r.body = dumpJson(Json{{"Container", container}, {"Force", force}});
    return expectOk(call(std::move(r)));
  }

  // --- volumes

  Result<VolumeInfo> createVolume(const Json& body) override {
    HttpRequest r = req("POST", "/volumes/create");
    r.body = dumpJson(body);
    auto resp = call(std::move(r));
    if (!resp.isOk()) return resp.status();
    if (resp->status != 201 && resp->status != 200) {
      return engineError(resp->status, resp->body, Code::kAlreadyExists);
    }
    auto doc = parseJson(resp->body);
    if (!doc.isOk()) return doc.status().prefixed("volume create answer");
    return volumeInfoFromJson(std::move(*doc));
  }

  Status removeVolume(const std::string& name, bool force) override {
    return expectOk(
        call(req("DELETE", "/volumes/" + urlEncode(name) + "?force=" + boolParam(force))));
  }

  Result<std::vector<VolumeInfo>> listVolumes(
      const std::vector<std::string>& label_filters) override {
    std::string path = "/volumes";
    if (!label_filters.empty()) {
      path += "?filters=" + urlEncode(dumpJson(labelFilterJson(label_filters)));
    }
    auto doc = getJson(path);
    if (!doc.isOk()) return doc.status();
    std::vector<VolumeInfo> out;
    const Json& volumes = jsonObj(*doc, "Volumes");
    if (volumes.is_array()) {
      for (const auto& item : volumes) out.push_back(volumeInfoFromJson(item));
    }
    return out;
  }

  Result<VolumeInfo> inspectVolume(const std::string& name) override {
    auto doc = getJson("/volumes/" + urlEncode(name));
    if (!doc.isOk()) return doc.status();
    return volumeInfoFromJson(std::move(*doc));
  }

  std::unique_ptr<EventStream> watchEvents(EventFilter filter, EventCallback on_event,
                                           EventStateCallback on_state) override {
    return startEventStream(init_error_.isOk() ? socket_ : std::string(), options_.connect_timeout,
                            std::move(filter), std::move(on_event), std::move(on_state));
  }

 private:
  HttpRequest req(const char* method, std::string path) const {
    HttpRequest r;
    r.method = method;
    r.path = std::move(path);
    r.timeout = options_.request_timeout;
    r.connect_timeout = options_.connect_timeout;
    return r;
  }

  // Prefixes the negotiated version (negotiating first if needed) and performs the call.
  Result<HttpResponse> call(HttpRequest r) {
    PHAROS_RETURN_IF_ERROR(init_error_);
    std::string prefix;
    {
      std::lock_guard<std::mutex> lock(mu_);
      prefix = prefix_;
    }
    if (prefix.empty()) {
      auto v = version();
      if (!v.isOk()) return v.status();
      prefix = "/v" + v->api_version;
    }
    r.path = prefix + r.path;
    return httpCall(socket_, r);
  }

  Result<Json> getJson(const std::string& path) {
    auto resp = call(req("GET", path));
    if (!resp.isOk()) return resp.status();
    if (resp->status != 200) return engineError(resp->status, resp->body);
    auto doc = parseJson(resp->body, 64u << 20, 128);
    if (!doc.isOk()) return doc.status().prefixed("docker engine answer to " + path);
    return doc;
  }

  static Status expectOk(const Result<HttpResponse>& resp) {
    if (!resp.isOk()) return resp.status();
    if ((resp->status >= 200 && resp->status < 300) || resp->status == 304) return Status::ok();
    return engineError(resp->status, resp->body);
  }

  static void checkPullLine(const std::string& line, std::string& stream_error) {
    if (line.find("error") == std::string::npos || !stream_error.empty()) return;
    auto doc = parseJson(line, 1 << 20, 16);
    if (!doc.isOk()) return;
    std::string error = jsonStr(*doc, "error");
    if (error.empty()) error = jsonStr(jsonObj(*doc, "errorDetail"), "message");
    if (!error.empty()) stream_error = error;
  }

  static ContainerStats statsFromJson(const Json& doc) {
    ContainerStats s;
    const Json& cpu = jsonObj(doc, "cpu_stats");
    const Json& pre = jsonObj(doc, "precpu_stats");
    s.cpu_total_ns = jsonU64(jsonObj(cpu, "cpu_usage"), "total_usage");
    s.system_cpu_ns = jsonU64(cpu, "system_cpu_usage");
    s.online_cpus = static_cast<uint32_t>(jsonU64(cpu, "online_cpus"));
    if (s.online_cpus == 0) {
      const Json& percpu = jsonObj(jsonObj(cpu, "cpu_usage"), "percpu_usage");
      if (percpu.is_array()) s.online_cpus = static_cast<uint32_t>(percpu.size());
    }
    uint64_t pre_total = jsonU64(jsonObj(pre, "cpu_usage"), "total_usage");
    uint64_t pre_system = jsonU64(pre, "system_cpu_usage");
    if (pre_system > 0 && s.system_cpu_ns > pre_system && s.cpu_total_ns >= pre_total) {
      double cpu_delta = double(s.cpu_total_ns - pre_total);
      double system_delta = double(s.system_cpu_ns - pre_system);
      s.cpu_percent = cpu_delta / system_delta * std::max<uint32_t>(1, s.online_cpus) * 100.0;
    }
    const Json& mem = jsonObj(doc, "memory_stats");
    uint64_t usage = jsonU64(mem, "usage");
    const Json& mstats = jsonObj(mem, "stats");
    uint64_t inactive = jsonU64(mstats, "total_inactive_file");      // cgroup v1
    if (inactive == 0) inactive = jsonU64(mstats, "inactive_file");  // cgroup v2
    s.memory_usage = usage > inactive ? usage - inactive : usage;
    s.memory_limit = jsonU64(mem, "limit");
    s.pids = jsonU64(jsonObj(doc, "pids_stats"), "current");
    const Json& networks = jsonObj(doc, "networks");
    if (networks.is_object()) {
      for (const auto& n : networks) {
        s.net_rx_bytes += jsonU64(n, "rx_bytes");
        s.net_tx_bytes += jsonU64(n, "tx_bytes");
      }
    }
    return s;
  }

  EngineDockerOptions options_;
  std::string socket_;
  Status init_error_;
  std::mutex mu_;
  std::string prefix_;  // "/v1.41" once negotiated
};

}  // namespace

std::unique_ptr<DockerClient> makeEngineDockerClient(EngineDockerOptions options) {
  return std::make_unique<EngineDockerClient>(std::move(options));
}

std::unique_ptr<DockerClient> makeEngineDockerClient(std::string docker_host) {
  EngineDockerOptions options;
  options.docker_host = std::move(docker_host);
  return makeEngineDockerClient(std::move(options));
}

}  // namespace pharos::agent
