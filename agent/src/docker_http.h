// Internal to the Docker client: one HTTP/1.1 exchange over the engine's Unix socket
// (unix_http.cpp), error mapping from engine answers to Status, and URL helpers. Each call
// opens its own connection, so everything here is safe to call from several threads at once.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/docker_client.h"

namespace pharos::agent {

struct HttpRequest {
  std::string method = "GET";
  std::string path;  // "/v1.41/containers/json?all=1" (already encoded)
  std::string body;  // sent when non-empty or for POST; JSON
  std::vector<std::string> headers;
  std::chrono::milliseconds timeout{60000};  // 0 = none
  std::chrono::milliseconds connect_timeout{5000};
  long low_speed_time_s = 0;  // fail when no byte arrived for this long (0 = off)
  // Streaming: called with each chunk of a 2xx body instead of collecting it. Returning
  // false aborts the transfer (the call then returns the status set by the callback's owner).
  std::function<bool(std::string_view)> on_data;
  // Called once with the answer's status code, before its body.
  std::function<void(long)> on_status;
  // Readable -> the exchange ends at once (unavailable); -1 = none. For stop() of a stream.
  int wake_fd = -1;
};

struct HttpResponse {
  long status = 0;
  std::string body;  // the body, or for a streamed 2xx answer nothing
};

// Transport failures (no socket, refused, timeout, wake_fd) -> unavailable; any HTTP answer
// (status and body; for a streamed 2xx answer, no body) -> value.
Result<HttpResponse> httpCall(const std::string& socket_path, const HttpRequest& request);

// The engine's error for a non-2xx answer, keeping its {"message": ...} text.
// `on_conflict` is the code a 409 maps to (conflict, or already_exists on creates).
Status engineError(long status, const std::string& body, Code on_conflict = Code::kConflict);

// Percent-encodes a query value or a path segment (keeps '/' when keep_slash).
std::string urlEncode(std::string_view text, bool keep_slash = false);

// "1.41" < "1.9"? Compares dotted API versions numerically; negative/zero/positive.
int compareApiVersions(const std::string& a, const std::string& b);

// GET /version (unversioned) -> the version facts with api_version negotiated.
Result<DockerVersion> fetchVersion(const std::string& socket_path,
                                   std::chrono::milliseconds timeout,
                                   std::chrono::milliseconds connect_timeout);

// The real event stream (docker_events.cpp).
std::unique_ptr<EventStream> startEventStream(std::string socket_path,
                                              std::chrono::milliseconds connect_timeout,
                                              EventFilter filter, EventCallback on_event,
                                              EventStateCallback on_state);

// Parses one line of GET /events; false when it is not an event object.
bool parseDockerEvent(std::string_view line, DockerEvent& out);

}  // namespace pharos::agent
