// The real Docker events stream: one long-lived named thread ("docker-events") holding a
// GET /events transfer open over the engine's socket. It negotiates the API version at
// each connect, parses one JSON event per line, and reconnects with backoff (100 ms
// doubling to 5 s, reset after a successful connect), resuming from the last event's time
// (duplicates at the boundary are dropped). stop() is prompt: the transfer runs on a curl
// multi handle and stop() wakes its poll (curl_multi_wakeup); backoff waits are on a
// condition variable. Callbacks run on the stream's thread.
#include <curl/curl.h>
#include <pthread.h>

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

class CurlEventStream final : public EventStream {
 public:
  CurlEventStream(std::string socket_path, std::chrono::milliseconds connect_timeout,
                  EventFilter filter, EventCallback on_event, EventStateCallback on_state)
      : socket_(std::move(socket_path)),
        connect_timeout_(connect_timeout),
        filter_(std::move(filter)),
        on_event_(std::move(on_event)),
        on_state_(std::move(on_state)) {
    ensureCurlGlobalInit();
    multi_ = curl_multi_init();
    thread_ = std::thread([this] { run(); });
  }

  ~CurlEventStream() override {
    stop();
    curl_multi_cleanup(multi_);
  }

  void stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (multi_ != nullptr) curl_multi_wakeup(multi_);
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

  static size_t onWrite(char* data, size_t size, size_t nmemb, void* user) {
    auto* self = static_cast<CurlEventStream*>(user);
    size_t n = size * nmemb;
    self->pending_.append(data, n);
    size_t nl;
    while ((nl = self->pending_.find('\n')) != std::string::npos) {
      std::string line = self->pending_.substr(0, nl);
      self->pending_.erase(0, nl + 1);
      DockerEvent event;
      if (!parseDockerEvent(line, event)) continue;
      if (event.time_nano != 0 && event.time_nano < self->last_time_nano_) continue;
      if (event.time_nano == self->last_time_nano_ && self->last_time_nano_ != 0 &&
          line == self->last_line_) {
        continue;  // the boundary event replayed by since=
      }
      self->last_time_nano_ = event.time_nano;
      self->last_line_ = line;
      if (self->on_event_) self->on_event_(event);
    }
    if (self->pending_.size() > (1u << 20)) return 0;  // no sane event is this long
    return n;
  }

  // One connection: negotiate, stream until the engine closes it, an error, or stop().
  Status runOnce(bool& connected) {
    if (socket_.empty()) return Status::invalidArgument("docker events: invalid DOCKER_HOST");
    auto version = fetchVersion(socket_, std::chrono::seconds(10), connect_timeout_);
    if (!version.isOk()) return version.status();
    std::string url = "http://localhost" + eventsPath(version->api_version);
    CURL* h = curl_easy_init();
    if (h == nullptr) return Status::internal("curl_easy_init failed");
    pending_.clear();
    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, socket_.c_str());
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout_.count()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &CurlEventStream::onWrite);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, this);
    curl_multi_add_handle(multi_, h);
    Status result = Status::ok();
    bool reported = false;
    while (!stopping()) {
      int running = 0;
      CURLMcode mc = curl_multi_perform(multi_, &running);
      if (mc != CURLM_OK) {
        result = Status::internal(std::string("curl_multi_perform: ") + curl_multi_strerror(mc));
        break;
      }
      long code = 0;
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
      if (code == 200 && !reported) {
        reported = true;
        connected = true;
        reportState(Status::ok());
      }
      if (running == 0) {
        int queued = 0;
        CURLMsg* msg = curl_multi_info_read(multi_, &queued);
        CURLcode rc = msg != nullptr ? msg->data.result : CURLE_OK;
        if (code != 0 && code != 200) {
          result = Status(code == 404 ? Code::kNotFound : Code::kInternal,
                          "docker events: engine answered HTTP " + std::to_string(code));
        } else if (rc != CURLE_OK) {
          result = Status::unavailable(std::string("docker events: ") + curl_easy_strerror(rc));
        } else {
          result = Status::unavailable("docker events: the engine closed the stream");
        }
        break;
      }
      curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
    curl_multi_remove_handle(multi_, h);
    curl_easy_cleanup(h);
    return result;
  }

  const std::string socket_;
  const std::chrono::milliseconds connect_timeout_;
  const EventFilter filter_;
  const EventCallback on_event_;
  const EventStateCallback on_state_;
  CURLM* multi_ = nullptr;
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

std::unique_ptr<EventStream> startCurlEventStream(std::string socket_path,
                                                  std::chrono::milliseconds connect_timeout,
                                                  EventFilter filter, EventCallback on_event,
                                                  EventStateCallback on_state) {
  return std::make_unique<CurlEventStream>(std::move(socket_path), connect_timeout,
                                           std::move(filter), std::move(on_event),
                                           std::move(on_state));
}

}  // namespace pharos::agent
