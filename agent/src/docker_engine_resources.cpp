// The Engine API's networks and volumes (docker_engine.h EngineNetworks, EngineVolumes):
// create (a name in use -> already_exists), remove (a network with active endpoints ->
// conflict), list by label, inspect, and a container's connect/disconnect. Thread-safe: see
// docker_engine.h.
#include "docker_engine.h"
#include "docker_json.h"

namespace pharos::agent {

// ---- EngineNetworks -------------------------------------------------------------------------

Result<std::string> EngineNetworks::createNetwork(const Json& body) {
  Json doc = body;
  if (doc.is_object() && !doc.contains("CheckDuplicate")) doc["CheckDuplicate"] = true;
  HttpRequest r = http_.req("POST", "/networks/create");
  r.body = dumpJson(doc);
  auto resp = http_.call(std::move(r));
  if (!resp.isOk()) return resp.status();
  if (resp->status != 201 && resp->status != 200) {
    return engineError(resp->status, resp->body, Code::kAlreadyExists);
  }
  auto answer = parseJson(resp->body);
  if (!answer.isOk()) return answer.status().prefixed("network create answer");
  return jsonStr(*answer, "Id");
}

Status EngineNetworks::removeNetwork(const std::string& id_or_name) {
  auto resp = http_.call(http_.req("DELETE", "/networks/" + urlEncode(id_or_name)));
  Status s = EngineTransport::expectOk(resp);
  // The engine answers 403 for "network ... has active endpoints": a conflict.
  if (!s.isOk() && resp.isOk() && resp->status == 403 &&
      s.message().find("active endpoints") != std::string::npos) {
    return Status::conflict(s.message());
  }
  return s;
}

Result<std::vector<NetworkInfo>> EngineNetworks::listNetworks(
    const std::vector<std::string>& label_filters) {
  std::string path = "/networks";
  if (!label_filters.empty()) {
    path += "?filters=" + urlEncode(dumpJson(labelFilterJson(label_filters)));
  }
  auto doc = http_.getJson(path);
  if (!doc.isOk()) return doc.status();
  std::vector<NetworkInfo> out;
  if (doc->is_array()) {
    for (auto& item : *doc) out.push_back(networkInfoFromJson(std::move(item)));
  }
  return out;
}

Result<NetworkInfo> EngineNetworks::inspectNetwork(const std::string& id_or_name) {
  auto doc = http_.getJson("/networks/" + urlEncode(id_or_name));
  if (!doc.isOk()) return doc.status();
  return networkInfoFromJson(std::move(*doc));
}

Status EngineNetworks::connectNetwork(const std::string& network, const std::string& container,
                                      const Json& endpoint_config) {
  HttpRequest r = http_.req("POST", "/networks/" + urlEncode(network) + "/connect");
  Json body = {{"Container", container}};
  if (endpoint_config.is_object() && !endpoint_config.empty()) {
    body["EndpointConfig"] = endpoint_config;
  }
  r.body = dumpJson(body);
  auto resp = http_.call(std::move(r));
  if (!resp.isOk()) return resp.status();
  if (resp->status >= 200 && resp->status < 300) return Status::ok();
  Status s = engineError(resp->status, resp->body);
  // The engine answers 403 for "endpoint ... already exists in network ...".
  if (resp->status == 403 && s.message().find("already exists") != std::string::npos) {
    return Status::alreadyExists(s.message());
  }
  return s;
}

Status EngineNetworks::disconnectNetwork(const std::string& network, const std::string& container,
                                         bool force) {
  HttpRequest r = http_.req("POST", "/networks/" + urlEncode(network) + "/disconnect");
  r.body = dumpJson(Json{{"Container", container}, {"Force", force}});
  return EngineTransport::expectOk(http_.call(std::move(r)));
}

// ---- EngineVolumes --------------------------------------------------------------------------

Result<VolumeInfo> EngineVolumes::createVolume(const Json& body) {
  HttpRequest r = http_.req("POST", "/volumes/create");
  r.body = dumpJson(body);
  auto resp = http_.call(std::move(r));
  if (!resp.isOk()) return resp.status();
  if (resp->status != 201 && resp->status != 200) {
    return engineError(resp->status, resp->body, Code::kAlreadyExists);
  }
  auto doc = parseJson(resp->body);
  if (!doc.isOk()) return doc.status().prefixed("volume create answer");
  return volumeInfoFromJson(std::move(*doc));
}

Status EngineVolumes::removeVolume(const std::string& name, bool force) {
  return EngineTransport::expectOk(http_.call(
      http_.req("DELETE", "/volumes/" + urlEncode(name) + "?force=" + boolParam(force))));
}

Result<std::vector<VolumeInfo>> EngineVolumes::listVolumes(
    const std::vector<std::string>& label_filters) {
  std::string path = "/volumes";
  if (!label_filters.empty()) {
    path += "?filters=" + urlEncode(dumpJson(labelFilterJson(label_filters)));
  }
  auto doc = http_.getJson(path);
  if (!doc.isOk()) return doc.status();
  std::vector<VolumeInfo> out;
  const Json& volumes = jsonObj(*doc, "Volumes");
  if (volumes.is_array()) {
    for (const auto& item : volumes) out.push_back(volumeInfoFromJson(item));
  }
  return out;
}

Result<VolumeInfo> EngineVolumes::inspectVolume(const std::string& name) {
  auto doc = http_.getJson("/volumes/" + urlEncode(name));
  if (!doc.isOk()) return doc.status();
  return volumeInfoFromJson(std::move(*doc));
}

}  // namespace pharos::agent
