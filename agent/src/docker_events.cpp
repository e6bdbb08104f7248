// The real Docker events stream: one long-lived named thread ("docker-events") holding a
// GET /events transfer open over the engine's socket. It negotiates the API version at
// each connect, parses one JSON event per line, and reconnects with backoff (100 ms
// doubling to 5 s, reset after a successful connect), resuming from the last event's time
// (duplicates at the boundary are dropped). stop() is prompt: it writes to a pipe the
// exchange polls beside the socket (HttpRequest::wake_fd); backoff waits are on a condition
// variable. Callbacks run on the stream's thread.
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "docker_http.h"
#include "docker_json.h"

namespace pharos::agent {

bool parseDockerEvent(std::string_view line, DockerEvent& out) {
  auto doc = parseJson(line, 1 << 20, 16);
  if (!doc.isOk() || !doc->is_object()) return false;
  out.type = jsonStr(*doc, "Type");
  out.action = jsonStr(*doc, "Action");
  const Json& actor = jsonObj(*doc, "Actor");
  out.id = jsonStr(actor, "ID");
  out.attributes = jsonLabels(jsonObj(actor, "Attributes"));
  out.time_nano = jsonInt(*doc, "timeNano");
  if (out.time_nano == 0) out.time_nano = jsonInt(*doc, "time") * 1'000'000'000;
  return !out.type.empty() && !out.action.empty();
}

namespace {

constexpr std::chrono::milliseconds kInitialBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

class EngineEventStream final : public EventStream {
 public:
  EngineEventStream(std::string socket_path, std::chrono::milliseconds connect_timeout,
                    EventFilter filter, EventCallback on_event, EventStateCallback on_state)
      : socket_(std::move(socket_path)),
        connect_timeout_(connect_timeout),
        filter_(std::move(filter)),
        on_event_(std::move(on_event)),
        on_state_(std::move(on_state)) {
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
    thread_ = std::thread([this] { run(); });
  }

  ~EngineEventStream() override {
    stop();
    for (int fd : wake_) {
      if (fd >= 0) ::close(fd);
    }
  }

  void stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (wake_[1] >= 0) {
      char byte = 1;
      (void)!::write(wake_[1], &byte, 1);  // stays readable: every later wait ends at once
    }
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

 private:
  bool stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  }

  void reportState(const Status& s) {
    if (on_state_) on_state_(s);
  }

  void run() {
    pthread_setname_np(pthread_self(), "docker-events");
    auto backoff = kInitialBackoff;
    bool was_connected = false;
    bool reported_down = false;
    while (!stopping()) {
      bool connected = false;
      Status s = runOnce(connected);
      if (stopping()) break;
      if (connected) {
        backoff = kInitialBackoff;
        was_connected = true;
        reported_down = false;
      }
      // Report each loss once (a connect that failed again is not a new loss).
      if (!reported_down || was_connected) {
        reportState(s.isOk() ? Status::unavailable("docker events stream ended") : s);
        reported_down = true;
        was_connected = false;
      }
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, backoff, [this] { return stopping_; });
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

  std::string eventsPath(const std::string& api_version) const {
    Json filters = Json::object();
    if (!filter_.types.empty()) filters["type"] = filter_.types;
    if (!filter_.labels.empty()) filters["label"] = filter_.labels;
    std::string path = "/v" + api_version + "/events";
    char sep = '?';
    if (!filters.empty()) {
      path += sep + std::string("filters=") + urlEncode(dumpJson(filters));
      sep = '&';
    }
    if (last_time_nano_ > 0) {
      char since[48];
      std::snprintf(since, sizeof since, "%lld.%09lld",
                    static_cast<long long>(last_time_nano_ / 1'000'000'000),
                    static_cast<long long>(last_time_nano_ % 1'000'000'000));
      path += sep + std::string("since=") + since;
    }
    return path;
  }

  // Splits the stream into lines, one event each; false when a line grows unreasonably.
  bool onData(std::string_view data) {
    pending_.append(data);
    size_t nl;
    while ((nl = pending_.find('\n')) != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      DockerEvent event;
      if (!parseDockerEvent(line, event)) continue;
      if (event.time_nano != 0 && event.time_nano < last_time_nano_) continue;
      if (event.time_nano == last_time_nano_ && last_time_nano_ != 0 && line == last_line_) {
        continue;  // the boundary event replayed by since=
      }
      last_time_nano_ = event.time_nano;
      last_line_ = line;
      if (on_event_) on_event_(event);
    }
    return pending_.size() <= (1u << 20);  // no sane event is this long
  }

  // One connection: negotiate, stream until the engine closes it, an error, or stop().
  Status runOnce(bool& connected) {
    if (socket_.empty()) return Status::invalidArgument("docker events: invalid DOCKER_HOST");
    if (wake_[0] < 0) return Status::internal("docker events: pipe2 failed");
    auto version = fetchVersion(socket_, std::chrono::seconds(10), connect_timeout_);
    if (!version.isOk()) return version.status();
    pending_.clear();
    HttpRequest request;
    request.path = eventsPath(version->api_version);
    request.timeout = std::chrono::milliseconds(0);  // a stream: no deadline
    request.connect_timeout = connect_timeout_;
    request.wake_fd = wake_[0];
    request.on_status = [&](long code) {
      if (code == 200) {
        connected = true;
        reportState(Status::ok());
      }
    };
    request.on_data = [this](std::string_view data) { return onData(data); };
    auto response = httpCall(socket_, request);
    if (!response.isOk()) {
      return Status::unavailable("docker events: " + response.status().message());
    }
    if (response->status != 200) {
      return Status(response->status == 404 ? Code::kNotFound : Code::kInternal,
                    "docker events: engine answered HTTP " + std::to_string(response->status));
    }
    return Status::unavailable("docker events: the engine closed the stream");
  }

  const std::string socket_;
  const std::chrono::milliseconds connect_timeout_;
  const EventFilter filter_;
  const EventCallback on_event_;
  const EventStateCallback on_state_;
  int wake_[2] = {-1, -1};  // stop() writes to [1]; the exchange polls [0]
  // Touched only by the stream thread.
  std::string pending_;
  std::string last_line_;
  int64_t last_time_nano_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;  // last: started after every other member is ready
};

}  // namespace

std::unique_ptr<EventStream> startEventStream(std::string socket_path,
                                              std::chrono::milliseconds connect_timeout,
                                              EventFilter filter, EventCallback on_event,
                                              EventStateCallback on_state) {
  return std::make_unique<EngineEventStream>(std::move(socket_path), connect_timeout,
                                             std::move(filter), std::move(on_event),
                                             std::move(on_state));
}

}  // namespace pharos::agent
