// The Engine API clients (docker_client.h EngineDocker, docker_engine.h): the shared transport
// (every request after the first goes to /v<negotiated>/...; the version is negotiated lazily
// with GET /version and again by version()), the engine's own calls and the image calls.
// Thread-safe: see docker_engine.h.
#include <algorithm>
#include <mutex>

#include "agent/docker_client.h"
#include "docker_engine.h"
#include "docker_http.h"
#include "docker_json.h"

namespace pharos::agent {
namespace {

void checkPullLine(const std::string& line, std::string& stream_error) {
  if (line.find("error") == std::string::npos || !stream_error.empty()) return;
  auto doc = parseJson(line, 1 << 20, 16);
  if (!doc.isOk()) return;
  std::string error = jsonStr(*doc, "error");
  if (error.empty()) error = jsonStr(jsonObj(*doc, "errorDetail"), "message");
  if (!error.empty()) stream_error = error;
}

}  // namespace

// ---- EngineTransport ------------------------------------------------------------------------

EngineTransport::EngineTransport(EngineDockerOptions options) : options_(std::move(options)) {
  auto path = dockerSocketPath(options_.docker_host);
  if (path.isOk()) {
    socket_ = *path;
  } else {
    init_error_ = path.status();
  }
}

Result<DockerVersion> EngineTransport::negotiate() {
  PHAROS_RETURN_IF_ERROR(init_error_);
  auto v = fetchVersion(socket_, options_.request_timeout, options_.connect_timeout);
  if (v.isOk()) {
    std::lock_guard<std::mutex> lock(mu_);
    prefix_ = "/v" + v->api_version;
  }
  return v;
}

HttpRequest EngineTransport::req(const char* method, std::string path) const {
  HttpRequest r;
  r.method = method;
  r.path = std::move(path);
  r.timeout = options_.request_timeout;
  r.connect_timeout = options_.connect_timeout;
  return r;
}

Result<HttpResponse> EngineTransport::call(HttpRequest r) {
  PHAROS_RETURN_IF_ERROR(init_error_);
  std::string prefix;
  {
    std::lock_guard<std::mutex> lock(mu_);
    prefix = prefix_;
  }
  if (prefix.empty()) {
    auto v = negotiate();
    if (!v.isOk()) return v.status();
    prefix = "/v" + v->api_version;
  }
  r.path = prefix + r.path;
  return httpCall(socket_, r);
}

Result<HttpResponse> EngineTransport::callUnversioned(const HttpRequest& r) {
  PHAROS_RETURN_IF_ERROR(init_error_);
  return httpCall(socket_, r);
}

Result<Json> EngineTransport::getJson(const std::string& path) {
  auto resp = call(req("GET", path));
  if (!resp.isOk()) return resp.status();
  if (resp->status != 200) return engineError(resp->status, resp->body);
  auto doc = parseJson(resp->body, 64u << 20, 128);
  if (!doc.isOk()) return doc.status().prefixed("docker engine answer to " + path);
  return doc;
}

Status EngineTransport::expectOk(const Result<HttpResponse>& resp) {
  if (!resp.isOk()) return resp.status();
  if ((resp->status >= 200 && resp->status < 300) || resp->status == 304) return Status::ok();
  return engineError(resp->status, resp->body);
}

// ---- EngineSystem ---------------------------------------------------------------------------

Status EngineSystem::ping() {
  auto resp = http_.callUnversioned(http_.req("GET", "/_ping"));
  if (!resp.isOk()) return resp.status();
  if (resp->status != 200) return engineError(resp->status, resp->body);
  return Status::ok();
}

std::unique_ptr<EventStream> EngineSystem::watchEvents(EventFilter filter, EventCallback on_event,
                                                       EventStateCallback on_state) {
  return startEventStream(http_.eventSocket(), http_.options().connect_timeout, std::move(filter),
                          std::move(on_event), std::move(on_state));
}

// ---- EngineImages ---------------------------------------------------------------------------

Status EngineImages::pullImage(const std::string& reference,
                               const std::optional<RegistryAuth>& auth) {
  ImageRef ref = parseImageRef(reference);
  std::string path = "/images/create?fromImage=" + urlEncode(ref.repository) +
                     "&tag=" + urlEncode(ref.digest.empty() ? ref.tag : ref.digest);
  HttpRequest r = http_.req("POST", path);
  r.timeout = std::chrono::milliseconds(0);
  r.low_speed_time_s = std::max<long>(1, http_.options().pull_stall_timeout.count() / 1000);
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
  auto resp = http_.call(std::move(r));
  if (!resp.isOk()) return resp.status();
  if (resp->status != 200) return engineError(resp->status, resp->body);
  if (!pending.empty()) checkPullLine(pending, stream_error);
  if (!stream_error.empty()) return Status::internal(stream_error);
  return Status::ok();
}

Result<ImageInfo> EngineImages::inspectImage(const std::string& reference_or_id) {
  auto doc = http_.getJson("/images/" + urlEncode(reference_or_id, true) + "/json");
  if (!doc.isOk()) return doc.status();
  return imageInfoFromJson(std::move(*doc));
}

Status EngineImages::removeImage(const std::string& reference_or_id, bool force) {
  return EngineTransport::expectOk(http_.call(http_.req(
      "DELETE", "/images/" + urlEncode(reference_or_id, true) + "?force=" + boolParam(force))));
}

Result<std::vector<ImageInfo>> EngineImages::listImages(const std::string& reference) {
  std::string path = "/images/json";
  if (!reference.empty()) {
    path += "?filters=" + urlEncode(dumpJson(Json{{"reference", {reference}}}));
  }
  auto doc = http_.getJson(path);
  if (!doc.isOk()) return doc.status();
  std::vector<ImageInfo> out;
  if (doc->is_array()) {
    for (auto& item : *doc) out.push_back(imageInfoFromJson(std::move(item)));
  }
  return out;
}

// ---- EngineDocker ---------------------------------------------------------------------------

struct EngineDocker::Clients {
  explicit Clients(EngineDockerOptions options) : http(std::move(options)) {}
  EngineTransport http;
  EngineSystem system{http};
  EngineImages images{http};
  EngineContainers containers{http};
  EngineNetworks networks{http};
  EngineVolumes volumes{http};
};

EngineDocker::EngineDocker(EngineDockerOptions options)
    : clients_(std::make_unique<Clients>(std::move(options))) {}

namespace {
EngineDockerOptions hostOptions(std::string docker_host) {
  EngineDockerOptions options;
  options.docker_host = std::move(docker_host);
  return options;
}
}  // namespace

EngineDocker::EngineDocker(std::string docker_host)
    : EngineDocker(hostOptions(std::move(docker_host))) {}

EngineDocker::~EngineDocker() = default;

DockerApi EngineDocker::api() const {
  return DockerApi{clients_->system, clients_->images, clients_->containers, clients_->networks,
                   clients_->volumes};
}

}  // namespace pharos::agent
