// One HTTP exchange with the Docker Engine over its Unix socket (libcurl easy interface),
// the mapping of engine answers to Status, and version negotiation. A fresh easy handle per
// call: curl handles are not thread-safe, and an exchange per call keeps the client
// callable from any thread.
#include "docker_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <sstream>

#include "docker_json.h"

namespace pharos::agent {

void ensureCurlGlobalInit() {
  static std::once_flag once;  // NOLINT: process-wide library initialisation
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

namespace {

struct Transfer {
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  CURL* curl = nullptr;
  bool aborted_by_callback = false;
};

size_t onWrite(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  if (t->request->on_data) {
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300) {
      if (!t->request->on_data(std::string_view(data, n))) {
        t->aborted_by_callback = true;
        return 0;  // aborts with CURLE_WRITE_ERROR
      }
      return n;
    }
  }
  // Bodies we collect are small (engine documents); cap them anyway.
  if (t->response->body.size() + n > (64u << 20)) return 0;
  t->response->body.append(data, n);
  return n;
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct EasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

}  // namespace

Result<HttpResponse> httpCall(const std::string& socket_path, const HttpRequest& request) {
  ensureCurlGlobalInit();
  std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
  if (!curl) return Status::internal("curl_easy_init failed");
  HttpResponse response;
  Transfer transfer{&request, &response, curl.get(), false};
  std::string url = "http://localhost" + request.path;
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, socket_path.c_str());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onWrite);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  if (request.timeout.count() > 0) {
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  }
  if (request.low_speed_time_s > 0) {
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, request.low_speed_time_s);
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto addHeader = [&headers](const std::string& header) {
    curl_slist* next = curl_slist_append(headers.get(), header.c_str());
    if (next != nullptr) {
      (void)headers.release();
      headers.reset(next);
    }
  };
  for (const auto& header : request.headers) addHeader(header);
  if (request.method == "POST" || request.method == "PUT" || !request.body.empty()) {
    addHeader("Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
  }
  addHeader("Expect:");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  if (request.method != "GET" && request.method != "POST") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  if (rc != CURLE_OK) {
    if (transfer.aborted_by_callback) {
      return Status::internal("docker engine stream aborted by the reader");
    }
    std::string what = curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return Status::unavailable("docker engine at " + socket_path + ": " + request.method + " " +
                                 request.path + " timed out (" + what + ")");
    }
    return Status::unavailable("docker engine at " + socket_path + " unreachable: " + what);
  }
  return response;
}

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
