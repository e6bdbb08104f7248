// Internal to the Engine API clients (docker_client.h EngineDocker): the transport the five
// share (socket path, negotiated API version prefix, request defaults), and one client per
// interface. EngineSystem and EngineImages live in docker_engine_client.cpp, EngineContainers
// in docker_engine_containers.cpp, EngineNetworks and EngineVolumes in
// docker_engine_resources.cpp. Thread-safe: the only shared state is the negotiated version
// prefix (guarded by mu_); each request opens its own connection (unix_http.cpp).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/docker_client.h"
#include "docker_http.h"

namespace pharos::agent {

class EngineTransport {
 public:
  explicit EngineTransport(EngineDockerOptions options);

  const EngineDockerOptions& options() const { return options_; }
  // GET /version (unversioned); the negotiated version prefixes every later request.
  Result<DockerVersion> negotiate();
  // A request with the configured timeouts; `path` without the version prefix.
  HttpRequest req(const char* method, std::string path) const;
  // Prefixes the negotiated version (negotiating first if needed) and performs the call.
  Result<HttpResponse> call(HttpRequest r);
  // Performs the call as given (no version prefix).
  Result<HttpResponse> callUnversioned(const HttpRequest& r);
  // GET `path`, a 200 answer parsed as JSON.
  Result<Json> getJson(const std::string& path);
  // 2xx and 304 -> ok; any other answer -> the engine's error.
  static Status expectOk(const Result<HttpResponse>& resp);
  // The socket path for an event stream ("" when the host is not usable).
  std::string eventSocket() const { return init_error_.isOk() ? socket_ : std::string(); }

 private:
  EngineDockerOptions options_;
  std::string socket_;
  Status init_error_;
  std::mutex mu_;
  std::string prefix_;  // "/v1.41" once negotiated
};

class EngineSystem final : public DockerSystem {
 public:
  explicit EngineSystem(EngineTransport& http) : http_(http) {}
  Result<DockerVersion> version() override { return http_.negotiate(); }
  Status ping() override;
  Result<Json> info() override { return http_.getJson("/info"); }
  std::unique_ptr<EventStream> watchEvents(EventFilter filter, EventCallback on_event,
                                           EventStateCallback on_state) override;

 private:
  EngineTransport& http_;
};

class EngineImages final : public DockerImages {
 public:
  explicit EngineImages(EngineTransport& http) : http_(http) {}
  Status pullImage(const std::string& reference, const std::optional<RegistryAuth>& auth) override;
  Result<ImageInfo> inspectImage(const std::string& reference_or_id) override;
  Status removeImage(const std::string& reference_or_id, bool force) override;
  Result<std::vector<ImageInfo>> listImages(const std::string& reference) override;

 private:
  EngineTransport& http_;
};

class EngineContainers final : public DockerContainers {
 public:
  explicit EngineContainers(EngineTransport& http) : http_(http) {}
  Result<std::string> createContainer(const std::string& name, const Json& body) override;
  Status startContainer(const std::string& id) override;
  Status stopContainer(const std::string& id, std::optional<int> timeout_s) override;
  Status restartContainer(const std::string& id, std::optional<int> timeout_s) override;
  Status killContainer(const std::string& id, const std::string& signal) override;
  Status removeContainer(const std::string& id, bool force, bool volumes) override;
  Result<ContainerInfo> inspectContainer(const std::string& id_or_name) override;
  Result<std::vector<ContainerSummary>> listContainers(
      const std::vector<std::string>& label_filters, bool all) override;
  Result<int> waitContainer(const std::string& id, std::chrono::milliseconds timeout) override;
  Result<std::string> containerLogs(const std::string& id, const LogOptions& options) override;
  Result<ContainerStats> containerStats(const std::string& id, bool one_shot) override;

 private:
  EngineTransport& http_;
};

class EngineNetworks final : public DockerNetworks {
 public:
  explicit EngineNetworks(EngineTransport& http) : http_(http) {}
  Result<std::string> createNetwork(const Json& body) override;
  Status removeNetwork(const std::string& id_or_name) override;
  Result<std::vector<NetworkInfo>> listNetworks(
      const std::vector<std::string>& label_filters) override;
  Result<NetworkInfo> inspectNetwork(const std::string& id_or_name) override;
  Status connectNetwork(const std::string& network, const std::string& container,
                        const Json& endpoint_config) override;
  Status disconnectNetwork(const std::string& network, const std::string& container,
                           bool force) override;

 private:
  EngineTransport& http_;
};

class EngineVolumes final : public DockerVolumes {
 public:
  explicit EngineVolumes(EngineTransport& http) : http_(http) {}
  Result<VolumeInfo> createVolume(const Json& body) override;
  Status removeVolume(const std::string& name, bool force) override;
  Result<std::vector<VolumeInfo>> listVolumes(
      const std::vector<std::string>& label_filters) override;
  Result<VolumeInfo> inspectVolume(const std::string& name) override;

 private:
  EngineTransport& http_;
};

// "1" / "0" for a boolean query parameter.
inline std::string boolParam(bool v) { return v ? "1" : "0"; }

}  // namespace pharos::agent
