// Reconciler: desired-set bookkeeping, image pulls, Docker events and the reported state (see
// reconciler.h). Lanes, timers and stops are in reconciler_lanes.cpp, the passes in
// reconciler_pass.cpp and reconciler_remove.cpp, supervision in reconciler_supervise.cpp, the
// phase in reconciler_phase.cpp. Everything here takes or holds mu_.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/engine_spec.h"
#include "reconciler_internal.h"

namespace pharos::agent {

Reconciler::Reconciler(DockerClient& docker, Executor& strand, Executor& blocking,
                       const Clock& clock, ReconcilerOptions options, EventSink events,
                       std::function<void()> on_change, Executor* stops)
    : docker_(docker),
      strand_(strand),
      blocking_(blocking),
      stops_(stops ? *stops : blocking),
      clock_(clock),
      options_(std::move(options)),
      events_(std::move(events)),
      on_change_(std::move(on_change)),
      life_(std::make_shared<Life>()),
      jitter_(options_.seed ? options_.seed : entropySeed(options_.node_id)) {}

Reconciler::~Reconciler() { shutdown(); }

void Reconciler::setDesired(std::vector<DesiredApp> apps, bool authoritative) {
  Lock lock(mu_);
  authoritative_ = authoritative;
  std::set<std::string> names;
  for (DesiredApp& d : apps) {
    names.insert(d.spec.name);
    auto it = apps_.find(d.spec.name);
    if (it != apps_.end()) {
      const AppRun& held = *it->second;
      const DesiredApp& latest = held.next ? held.next->desired : held.desired;
      if (latest.spec == d.spec && latest.variables == d.variables) continue;
    }
    if (it == apps_.end()) it = apps_.emplace(d.spec.name, std::make_shared<AppRun>()).first;
    AppRun& app = *it->second;
    const DesiredApp& latest = app.next ? app.next->desired : app.desired;
    bool ever_parsed = app.file || !app.parse_error.empty() ||
                       (app.next && (app.next->file || !app.next->parse_error.empty()));
    AppRun::Next next;
    next.compose_changed =
        !ever_parsed || latest.spec.compose != d.spec.compose || latest.variables != d.variables;
    if (app.next && !next.compose_changed) {  // keep what the pending entry parsed
      next.file = app.next->file;
      next.parse_error = app.next->parse_error;
      next.compose_changed = app.next->compose_changed;
    } else if (next.compose_changed) {
      auto parsed = parseCompose(d.spec.compose, d.variables);
      if (parsed.isOk()) {
        next.file = std::make_shared<const ComposeFile>(std::move(parsed).value());
      } else {
        // Keep what runs (the previous file stays for reporting); nothing changes.
        next.parse_error = "invalid compose: " + parsed.status().message();
        if (parsed.status().line() > 0) {
          next.parse_error += " (line " + std::to_string(parsed.status().line()) + ", column " +
                              std::to_string(parsed.status().column()) + ")";
        }
        emit("bad_document", d.spec.name, "", next.parse_error);
      }
    }
    next.desired = std::move(d);
    app.next = std::move(next);
    schedule(app.next->desired.spec.name, std::chrono::milliseconds(0));
  }
  bool dropped = false;
  for (auto it = apps_.begin(); it != apps_.end();) {
    if (names.count(it->first) == 0) {
      it->second->detached = true;
      if (it->second->file) dropped_files_[it->first] = it->second->file;
      if (auto t = timers_.find(it->first); t != timers_.end()) {
        lane(it->first)->cancel(t->second);
        timers_.erase(t);
        timer_due_.erase(it->first);
      }
      it = apps_.erase(it);
      dropped = true;
    } else {
      ++it;
    }
  }
  if (dropped || authoritative_) schedule("", std::chrono::milliseconds(0));
  changed();
}

// At the start of the app's pass: takes the entry setDesired() left (see AppRun).
void Reconciler::adopt(AppRun& app) {
  if (!app.next) return;
  AppRun::Next next = std::move(*app.next);
  app.next.reset();
  int64_t old_revision = app.desired.spec.revision;
  app.desired = std::move(next.desired);
  app.failure.clear();
  app.gone = false;
  app.failing = false;  // a new entry: a new failure episode
  app.failing_message.clear();
  if (app.desired.spec.state != DesiredState::kRemoved) app.removal_reported = false;
  if (next.compose_changed) {
    if (next.file) {
      app.file = std::move(next.file);
      app.parse_error.clear();
    } else {
      app.parse_error = next.parse_error;
    }
  }
  if (app.file && app.parse_error.empty() && old_revision != app.desired.spec.revision) {
    std::set<std::string> images;
    for (const Service& s : app.file->services) images.insert(s.image);
    if (old_revision != 0) app.previous_images = app.current_images;
    app.current_images = std::move(images);
  }
  // Pulls that failed for the old document get a fresh chance with the new one.
  for (const Service& s : app.file ? app.file->services : std::vector<Service>{}) {
    auto job = pulls_.find(s.image);
    if (job != pulls_.end() && job->second->state == PullJob::State::kFailed) {
      job->second->retry_at = clock_.steadyNow();
    }
  }
}

bool Reconciler::frozen() const {
  Lock lock(mu_);
  return frozen_;
}

void Reconciler::setFrozen(bool frozen) {
  {
    Lock lock(mu_);
    frozen_ = frozen;
  }
  if (!frozen) reconcileAll("unfrozen");
}

void Reconciler::setRegistries(std::vector<pharos::RegistryAuth> registries) {
  Lock lock(mu_);
  registries_ = std::move(registries);
}

void Reconciler::reconcileAll(const std::string& reason) {
  spdlog::debug("reconcile all: {}", reason);
  Lock lock(mu_);
  for (auto& [name, app] : apps_) schedule(name, std::chrono::milliseconds(0));
  schedule("", std::chrono::milliseconds(0));
}

void Reconciler::reconcileApp(const std::string& app, const std::string& reason) {
  spdlog::debug("reconcile {}: {}", app, reason);
  Lock lock(mu_);
  schedule(apps_.count(app) ? app : std::string(), std::chrono::milliseconds(0));
}

bool Reconciler::working() const {
  Lock lock(mu_);
  if (pulls_running_ > 0 || passes_running_ > 0) return true;
  for (const auto& [image, job] : pulls_) {
    if (job->state == PullJob::State::kQueued) return true;
  }
  auto now = clock_.steadyNow();
  for (const auto& [app, due] : timer_due_) {
    if (!app.empty() && due <= now) return true;
  }
  return false;
}

// ---- pulls -------------------------------------------------------------------------------

std::optional<RegistryAuth> Reconciler::authFor(const std::string& image) const {
  std::string host = parseImageRef(image).registry();
  for (const pharos::RegistryAuth& r : registries_) {
    if (r.host == host) return RegistryAuth{r.username, r.password, r.host};
  }
  return std::nullopt;
}

void Reconciler::requestPull(const std::string& image) {
  auto& job = pulls_[image];
  if (!job) job = std::make_unique<PullJob>();
  if (job->state == PullJob::State::kRunning) return;
  if (job->state == PullJob::State::kFailed && clock_.steadyNow() < job->retry_at) return;
  if (job->state != PullJob::State::kQueued || job->order == 0) job->order = ++pull_order_;
  job->state = PullJob::State::kQueued;
  pumpPulls();
}

void Reconciler::pumpPulls() {
  while (pulls_running_ < options_.max_concurrent_pulls) {
    PullJob* next = nullptr;
    std::string next_image;
    for (auto& [image, job] : pulls_) {
      if (job->state == PullJob::State::kQueued && (!next || job->order < next->order)) {
        next = job.get();
        next_image = image;
      }
    }
    if (!next) return;
    next->state = PullJob::State::kRunning;
    ++pulls_running_;
    auto jitter = jitter_.below(options_.pull_jitter);
    auto auth = authFor(next_image);
    // The pull blocks a thread of the blocking executor for its whole download; its result
    // is bookkept on that thread under mu_.
    blocking_.postDelayed(jitter, guarded([this, image = next_image, auth] {
                            Status status = docker_.pullImage(image, auth);
                            Lock lock(mu_);
                            onPullDone(image, status);
                          }));
  }
}

std::set<std::string> Reconciler::appsUsing(const std::string& image) const {
  std::set<std::string> out;
  for (const auto& [name, app] : apps_) {
    for (const ComposeFile* file : {app->file.get(), app->next ? app->next->file.get() : nullptr}) {
      if (file == nullptr) continue;
      for (const Service& s : file->services) {
        if (s.image == image) out.insert(name);
      }
    }
  }
  return out;
}

void Reconciler::onPullDone(const std::string& image, Status status) {
  --pulls_running_;
  auto it = pulls_.find(image);
  std::set<std::string> apps = appsUsing(image);
  // Image events name every app that needs the image (one event each), so that the events
  // of an app (pharosctl events --app) show why it waits or failed.
  std::set<std::string> named = apps.empty() ? std::set<std::string>{""} : apps;
  if (status.isOk()) {
    if (it != pulls_.end()) pulls_.erase(it);
    known_images_[image].insert(apps.begin(), apps.end());
    for (const std::string& app : named) emit("image_pulled", app, "", "pulled " + image);
  } else if (it != pulls_.end()) {
    PullJob& job = *it->second;
    job.state = PullJob::State::kFailed;
    job.message = status.message();
    job.retry_delay = job.retry_delay.count() == 0
                          ? options_.pull_retry
                          : std::min(job.retry_delay * 2, std::chrono::milliseconds(300'000));
    job.retry_at = clock_.steadyNow() + job.retry_delay;
    for (const std::string& app : named) {
      emit("image_pull_failed", app, "", "pull of " + image + " failed", status.message());
    }
  }
  for (const std::string& name : apps) {
    schedule(name, std::chrono::milliseconds(0));
    if (!status.isOk()) {
      // Retry the pull (and the app) when the backoff expires.
      schedule(name,
               pulls_.count(image) ? pulls_[image]->retry_delay : std::chrono::milliseconds(0));
    }
  }
  pumpPulls();
}

// ---- Docker events -----------------------------------------------------------------------

void Reconciler::onContainerEvent(const DockerEvent& event) {
  if (event.type != "container") return;
  auto attr = [&](const char* key) -> std::string {
    auto it = event.attributes.find(key);
    return it == event.attributes.end() ? std::string() : it->second;
  };
  if (attr(kLabelNode) != options_.node_id) return;
  std::string app_name = attr(kLabelApp);
  if (app_name.empty()) app_name = attr(kLabelProject);
  std::string service = attr(kLabelService);
  const std::string& action = event.action;
  Lock lock(mu_);
  auto reconcileApp = [&](const std::string& app, const std::string& reason) {
    spdlog::debug("reconcile {}: {}", app, reason);
    schedule(apps_.count(app) ? app : std::string(), std::chrono::milliseconds(0));
  };
  bool expected = expected_exits_.count(event.id) > 0 || expected_stops_.count(event.id) > 0;

  auto app_it = apps_.find(app_name);
  if (action == "oom") {
    if (app_it != apps_.end() && !expected) {
      app_it->second->service(service, options_.backoff).oom_pending = true;
    }
    return;
  }
  if (action == "die") {
    expected_stops_.erase(event.id);
    if (!expected && app_it != apps_.end()) {
      ServiceRun& run = app_it->second->service(service, options_.backoff);
      run.tracker.recordDeath(clock_.steadyNow());
      std::string code = attr("exitCode");
      std::string reason = "exit code " + (code.empty() ? std::string("?") : code);
      if (run.oom_pending) reason += " (out of memory)";
      run.oom_pending = false;
      emit("container_died", app_name, service, reason);
    }
    reconcileApp(app_name, "container died");
    return;
  }
  if (action == "destroy") {
    if (expected) {
      expected_exits_.erase(event.id);
      return;
    }
    reconcileApp(app_name, "container removed");
    return;
  }
  if (action == "start" || action == "stop" || action == "kill" || action == "restart" ||
      action.rfind("health_status", 0) == 0 || action == "create") {
    if (!expected) reconcileApp(app_name, "container " + action);
  }
}

// ---- reporting ----------------------------------------------------------------------------

void Reconciler::emit(const std::string& kind, const std::string& app, const std::string& service,
                      const std::string& reason, const std::string& message) {
  NodeEvent e;
  e.kind = kind;
  e.app = app;
  e.service = service;
  e.reason = reason;
  e.message = message;
  e.ts = clock_.nowMs();
  spdlog::info("event {} app={} service={}: {} {}", kind, app, service, reason, message);
  // Delivered on the core strand, in the order emitted.
  if (events_) strand_.post(guarded([this, e = std::move(e)]() mutable { events_(std::move(e)); }));
}

// During a rollout (the app's desired revision not yet reported applied) what a pass creates
// is listed in the one app_applied event that ends it: a group deploy to 10,000 devices sends
// 10,000 events through the broker instead of 30,000 (docs/agent.md "Events"). Outside a
// rollout a creation is a repair (a network or container deleted behind the agent's back) and
// gets its own event at once.
void Reconciler::noteCreated(AppRun& app, const std::string& kind, const std::string& service,
                             const std::string& what, const std::string& reason) {
  constexpr size_t kMaxListed = 16;
  if (app.applied_revision != app.desired.spec.revision) {
    if (app.created.size() < kMaxListed) {
      app.created.push_back(what);
    } else {
      ++app.created_more;
    }
    return;
  }
  emit(kind, app.desired.spec.name, service, reason);
}

std::string Reconciler::takeCreated(AppRun& app) {
  if (app.created.empty()) return "";
  std::string out = "created ";
  for (size_t i = 0; i < app.created.size(); ++i) out += (i ? ", " : "") + app.created[i];
  if (app.created_more > 0) out += " and " + std::to_string(app.created_more) + " more";
  app.created.clear();
  app.created_more = 0;
  return out;
}

void Reconciler::changed() {
  if (!on_change_ || change_posted_) return;
  change_posted_ = true;
  strand_.post(guarded([this] {
    {
      Lock lock(mu_);
      change_posted_ = false;
    }
    on_change_();
  }));
}

std::vector<AppState> Reconciler::appStates() const {
  Lock lock(mu_);
  std::vector<AppState> out;
  for (const auto& [name, app] : apps_) {
    if (app->gone) continue;
    AppState st;
    st.name = name;
    st.revision = app->desired.spec.revision;
    st.phase = app->phase;
    st.message = app->message;
    std::vector<std::string> order;
    if (app->file) {
      for (const Service& s : app->file->services) order.push_back(s.name);
    }
    for (const auto& [svc, run] : app->services) {
      if (std::find(order.begin(), order.end(), svc) == order.end() && run.info) {
        order.push_back(svc);
      }
    }
    for (const std::string& svc : order) {
      ServiceState ss;
      ss.name = svc;
      auto it = app->services.find(svc);
      if (it != app->services.end() && it->second.info) {
        const ContainerInfo& info = *it->second.info;
        ss.container_id = info.id;
        ss.state = info.state;
        ss.health = info.health;
        ss.restart_count = info.restart_count;
        ss.exit_code = info.exit_code;
        ss.image = info.image;
        ss.image_id = info.image_id;
      } else if (app->desired.spec.state == DesiredState::kRunning &&
                 app->phase != AppPhase::kPulling && app->phase != AppPhase::kPending &&
                 !app->waiting) {
        ss.state = ContainerState::kMissing;  // should exist but does not
      }
      st.services.push_back(std::move(ss));
    }
    out.push_back(std::move(st));
  }
  return out;
}

std::vector<Reconciler::Observed> Reconciler::observedContainers() const {
  Lock lock(mu_);
  std::vector<Observed> out;
  for (const auto& [name, app] : apps_) {
    for (const auto& [svc, run] : app->services) {
      if (run.info) out.push_back(Observed{name, svc, *run.info});
    }
  }
  return out;
}

std::string Reconciler::appDir(const std::string& app) const {
  std::string base = options_.data_dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return base + "/apps/" + app;
}

}  // namespace pharos::agent
