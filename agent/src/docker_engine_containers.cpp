// The Engine API's containers (docker_engine.h EngineContainers): create, start/stop/restart/
// kill/remove, inspect and list, wait, logs (multiplexed streams demultiplexed, capped at the
// newest bytes) and one stats sample with the CPU share computed as `docker stats` does.
// Thread-safe: see docker_engine.h.
#include <algorithm>

#include "docker_engine.h"
#include "docker_json.h"

namespace pharos::agent {
namespace {

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

ContainerStats statsFromJson(const Json& doc) {
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

// POST /containers/{id}/stop or /restart with the engine's grace period (t=); the call waits
// that long plus the usual limit, or 15 minutes when the container's own StopTimeout applies.
HttpRequest graceRequest(const EngineTransport& http, const std::string& id, const char* action,
                         std::optional<int> timeout_s) {
  HttpRequest r = http.req("POST", "/containers/" + urlEncode(id) + action);
  if (timeout_s) {
    r.path += "?t=" + std::to_string(*timeout_s);
    r.timeout = std::chrono::seconds(*timeout_s) + http.options().request_timeout;
  } else {
    r.timeout = std::chrono::minutes(15);
  }
  return r;
}

}  // namespace

Result<std::string> EngineContainers::createContainer(const std::string& name, const Json& body) {
  std::string path = "/containers/create";
  if (!name.empty()) path += "?name=" + urlEncode(name);
  HttpRequest r = http_.req("POST", path);
  r.body = dumpJson(body);
  auto resp = http_.call(std::move(r));
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

Status EngineContainers::startContainer(const std::string& id) {
  return EngineTransport::expectOk(
      http_.call(http_.req("POST", "/containers/" + urlEncode(id) + "/start")));
}

Status EngineContainers::stopContainer(const std::string& id, std::optional<int> timeout_s) {
  return EngineTransport::expectOk(http_.call(graceRequest(http_, id, "/stop", timeout_s)));
}

Status EngineContainers::restartContainer(const std::string& id, std::optional<int> timeout_s) {
  return EngineTransport::expectOk(http_.call(graceRequest(http_, id, "/restart", timeout_s)));
}

Status EngineContainers::killContainer(const std::string& id, const std::string& signal) {
  return EngineTransport::expectOk(http_.call(
      http_.req("POST", "/containers/" + urlEncode(id) + "/kill?signal=" + urlEncode(signal))));
}

Status EngineContainers::removeContainer(const std::string& id, bool force, bool volumes) {
  return EngineTransport::expectOk(
      http_.call(http_.req("DELETE", "/containers/" + urlEncode(id) + "?force=" + boolParam(force) +
                                         "&v=" + boolParam(volumes))));
}

Result<ContainerInfo> EngineContainers::inspectContainer(const std::string& id_or_name) {
  auto doc = http_.getJson("/containers/" + urlEncode(id_or_name) + "/json");
  if (!doc.isOk()) return doc.status();
  return containerInfoFromJson(std::move(*doc));
}

Result<std::vector<ContainerSummary>> EngineContainers::listContainers(
    const std::vector<std::string>& label_filters, bool all) {
  std::string path = "/containers/json?all=" + boolParam(all);
  if (!label_filters.empty()) {
    path += "&filters=" + urlEncode(dumpJson(labelFilterJson(label_filters)));
  }
  auto doc = http_.getJson(path);
  if (!doc.isOk()) return doc.status();
  std::vector<ContainerSummary> out;
  if (doc->is_array()) {
    for (const auto& item : *doc) out.push_back(containerSummaryFromJson(item));
  }
  return out;
}

Result<int> EngineContainers::waitContainer(const std::string& id,
                                            std::chrono::milliseconds timeout) {
  HttpRequest r = http_.req("POST", "/containers/" + urlEncode(id) + "/wait?condition=not-running");
  r.timeout = timeout;
  auto resp = http_.call(std::move(r));
  if (!resp.isOk()) return resp.status();
  if (resp->status != 200) return engineError(resp->status, resp->body);
  auto doc = parseJson(resp->body);
  if (!doc.isOk()) return doc.status().prefixed("container wait answer");
  std::string error = jsonStr(jsonObj(*doc, "Error"), "Message");
  if (!error.empty()) return Status::internal(error);
  return static_cast<int>(jsonInt(*doc, "StatusCode"));
}

Result<std::string> EngineContainers::containerLogs(const std::string& id,
                                                    const LogOptions& options) {
  auto info = inspectContainer(id);
  if (!info.isOk()) return info.status();
  bool tty = jsonBool(jsonObj(info->raw, "Config"), "Tty");
  std::string path = "/containers/" + urlEncode(info->id) +
                     "/logs?stdout=" + boolParam(options.stdout_stream) +
                     "&stderr=" + boolParam(options.stderr_stream) +
                     "&timestamps=" + boolParam(options.timestamps);
  path += "&tail=" + (options.tail < 0 ? std::string("all") : std::to_string(options.tail));
  if (options.since > 0) path += "&since=" + std::to_string(options.since);
  auto resp = http_.call(http_.req("GET", path));
  if (!resp.isOk()) return resp.status();
  if (resp->status != 200) return engineError(resp->status, resp->body);
  return capText(tty ? std::move(resp->body) : demultiplex(resp->body), options.max_bytes);
}

Result<ContainerStats> EngineContainers::containerStats(const std::string& id, bool one_shot) {
  auto doc = http_.getJson("/containers/" + urlEncode(id) + "/stats?stream=0" +
                           (one_shot ? "&one-shot=1" : ""));
  if (!doc.isOk()) return doc.status();
  return statsFromJson(*doc);
}

}  // namespace pharos::agent
