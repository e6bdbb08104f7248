// The reconciler's image pulls and pruning (see app_images.h). Mutex held, released around
// engine calls.
#include "app_images.h"

#include <algorithm>

namespace pharos::agent {

AppImages::AppImages(ReconcilerContext& ctx, Executor& blocking, ReconcileLanes& lanes,
                     const AppTable& table, AppReporter& reporter)
    : ctx_(ctx),
      blocking_(blocking),
      lanes_(lanes),
      table_(table),
      reporter_(reporter),
      jitter_(ctx.options.seed ? ctx.options.seed : entropySeed(ctx.options.node_id)) {}

void AppImages::setRegistries(std::vector<pharos::RegistryAuth> registries) {
  registries_ = std::move(registries);
}

std::optional<RegistryAuth> AppImages::authFor(const std::string& image) const {
  std::string host = parseImageRef(image).registry();
  for (const pharos::RegistryAuth& r : registries_) {
    if (r.host == host) return RegistryAuth{r.username, r.password, r.host};
  }
  return std::nullopt;
}

void AppImages::request(const std::string& image) {
  auto& job = pulls_[image];
  if (!job) job = std::make_unique<PullJob>();
  if (job->state == PullJob::State::kRunning) return;
  if (job->state == PullJob::State::kFailed && ctx_.clock.steadyNow() < job->retry_at) return;
  if (job->state != PullJob::State::kQueued || job->order == 0) job->order = ++pull_order_;
  job->state = PullJob::State::kQueued;
  pump();
}

std::optional<std::string> AppImages::failedPull(const std::string& image) const {
  auto job = pulls_.find(image);
  if (job != pulls_.end() && job->second->state == PullJob::State::kFailed &&
      ctx_.clock.steadyNow() < job->second->retry_at) {
    return job->second->message;
  }
  return std::nullopt;
}

void AppImages::retryFailed(const ComposeFile* file) {
  for (const Service& s : file ? file->services : std::vector<Service>{}) {
    auto job = pulls_.find(s.image);
    if (job != pulls_.end() && job->second->state == PullJob::State::kFailed) {
      job->second->retry_at = ctx_.clock.steadyNow();
    }
  }
}

bool AppImages::working() const {
  if (pulls_running_ > 0) return true;
  for (const auto& [image, job] : pulls_) {
    if (job->state == PullJob::State::kQueued) return true;
  }
  return false;
}

void AppImages::pump() {
  while (pulls_running_ < ctx_.options.max_concurrent_pulls) {
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
    auto jitter = jitter_.below(ctx_.options.pull_jitter);
    auto auth = authFor(next_image);
    // The pull blocks a thread of the blocking executor for its whole download; its result
    // is bookkept on that thread under the mutex.
    blocking_.postDelayed(jitter, lanes_.guarded([this, image = next_image, auth] {
      Status status = ctx_.docker.images.pullImage(image, auth);
      Lock lock(ctx_.mu);
      onPullDone(image, status);
    }));
  }
}

void AppImages::onPullDone(const std::string& image, Status status) {
  --pulls_running_;
  auto it = pulls_.find(image);
  std::set<std::string> apps = table_.appsUsing(image);
  // Image events name every app that needs the image (one event each), so that the events
  // of an app (pharosctl events --app) show why it waits or failed.
  std::set<std::string> named = apps.empty() ? std::set<std::string>{""} : apps;
  if (status.isOk()) {
    if (it != pulls_.end()) pulls_.erase(it);
    known_images_[image].insert(apps.begin(), apps.end());
    for (const std::string& app : named) reporter_.emit("image_pulled", app, "", "pulled " + image);
  } else if (it != pulls_.end()) {
    PullJob& job = *it->second;
    job.state = PullJob::State::kFailed;
    job.message = status.message();
    job.retry_delay = job.retry_delay.count() == 0
                          ? ctx_.options.pull_retry
                          : std::min(job.retry_delay * 2, std::chrono::milliseconds(300'000));
    job.retry_at = ctx_.clock.steadyNow() + job.retry_delay;
    for (const std::string& app : named) {
      reporter_.emit("image_pull_failed", app, "", "pull of " + image + " failed",
                     status.message());
    }
  }
  for (const std::string& name : apps) {
    lanes_.schedule(name, std::chrono::milliseconds(0));
    if (!status.isOk()) {
      // Retry the pull (and the app) when the backoff expires.
      lanes_.schedule(
          name, pulls_.count(image) ? pulls_[image]->retry_delay : std::chrono::milliseconds(0));
    }
  }
  pump();
}

void AppImages::prune() {
  if (table_.frozen() || !table_.authoritative() || pulls_running_ > 0) return;
  std::set<std::string> keep;
  for (const auto& [name, app] : table_.all()) {
    if (app->phase != AppPhase::kRunning && app->phase != AppPhase::kStopped &&
        app->desired.spec.state != DesiredState::kRemoved)
      return;  // settle first: an app still converging may need its images
    if (app->desired.spec.state == DesiredState::kRemoved) continue;
    keep.insert(app->current_images.begin(), app->current_images.end());
    keep.insert(app->previous_images.begin(), app->previous_images.end());
    if (app->file) {
      for (const Service& s : app->file->services) keep.insert(s.image);
    }
    if (app->next && app->next->file) {
      for (const Service& s : app->next->file->services) keep.insert(s.image);
    }
  }
  std::vector<std::string> unused;
  for (const auto& [image, apps] : known_images_) {
    if (!keep.count(image)) unused.push_back(image);
  }
  for (const std::string& image : unused) {
    if (!table_.appsUsing(image).empty()) continue;  // desired again while the mutex was released
    Status st = ctx_.engine([&] { return ctx_.docker.images.removeImage(image, false); });
    auto it = known_images_.find(image);
    if (it == known_images_.end()) continue;
    if (st.isOk()) {
      // Named after the apps that needed it, so each app's events show it went.
      std::set<std::string> named = it->second.empty() ? std::set<std::string>{""} : it->second;
      for (const std::string& app : named) {
        reporter_.emit("image_pruned", app, "", "image " + image + " no longer used");
      }
    }
    // In use by another container (conflict) or gone: either way, stop tracking it.
    known_images_.erase(it);
  }
}

}  // namespace pharos::agent
