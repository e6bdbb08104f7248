// The mapping of Docker Engine answers to Status, URL helpers and version negotiation. The
// exchange itself (httpCall) is in unix_http.cpp.
#include "docker_http.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

#include "docker_json.h"

namespace pharos::agent {

Status engineError(long status, const std::string& body, Code on_conflict) {
  std::string message;
  auto parsed = parseJson(body, 1 << 20, 16);
  if (parsed.isOk()) message = jsonStr(*parsed, "message");
  if (message.empty()) {
    message = body.substr(0, 512);
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
      message.pop_back();
    }
  }
  if (message.empty()) message = "docker engine answered HTTP " + std::to_string(status);
  Code code = Code::kInternal;
  switch (status) {
    case 400:
      code = Code::kInvalidArgument;
      break;
    case 401:
    case 403:
      code = Code::kPermissionDenied;
      break;
    case 404:
      code = Code::kNotFound;
      break;
    case 409:
      code = on_conflict;
      break;
    case 503:
      code = Code::kUnavailable;
      break;
    default:
      code = Code::kInternal;
  }
  return Status(code, message);
}

std::string urlEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool plain = std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~' ||
                 (keep_slash && (c == '/' || c == ':' || c == '@'));
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

int compareApiVersions(const std::string& a, const std::string& b) {
  std::istringstream sa(a);
  std::istringstream sb(b);
  for (int i = 0; i < 4; ++i) {
    long va = 0;
    long vb = 0;
    std::string pa;
    std::string pb;
    if (std::getline(sa, pa, '.')) va = std::strtol(pa.c_str(), nullptr, 10);
    if (std::getline(sb, pb, '.')) vb = std::strtol(pb.c_str(), nullptr, 10);
    if (va != vb) return va < vb ? -1 : 1;
  }
  return 0;
}

Result<DockerVersion> fetchVersion(const std::string& socket_path,
                                   std::chrono::milliseconds timeout,
                                   std::chrono::milliseconds connect_timeout) {
  HttpRequest request;
  request.path = "/version";
  request.timeout = timeout;
  request.connect_timeout = connect_timeout;
  auto response = httpCall(socket_path, request);
  if (!response.isOk()) return response.status();
  if (response->status != 200) return engineError(response->status, response->body);
  auto doc = parseJson(response->body);
  if (!doc.isOk()) return doc.status().prefixed("docker engine /version");
  DockerVersion v;
  v.version = jsonStr(*doc, "Version");
  v.engine_api_version = jsonStr(*doc, "ApiVersion");
  v.min_api_version = jsonStr(*doc, "MinAPIVersion");
  v.os = jsonStr(*doc, "Os");
  v.arch = jsonStr(*doc, "Arch");
  v.kernel_version = jsonStr(*doc, "KernelVersion");
  if (v.engine_api_version.empty()) {
    return Status::internal("docker engine /version has no ApiVersion");
  }
  v.api_version = compareApiVersions(v.engine_api_version, kMaxDockerApiVersion) < 0
                      ? v.engine_api_version
                      : std::string(kMaxDockerApiVersion);
  return v;
}

}  // namespace pharos::agent
