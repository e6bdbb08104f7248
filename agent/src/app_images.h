// The images of the reconciler's apps: a pull queue (at most `max_concurrent_pulls` at once,
// each after a small random delay, on the blocking executor, with registry credentials and a
// retry backoff per image) and the pruning of images this agent pulled that no app needs any
// more. Images it found already present (loaded by hand, pulled by someone else, pulled before
// a restart) are never pruned: they might not be pullable again. Guarded by the reconciler's
// mutex; a pull's result is bookkept on the pull's thread under it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app_reporter.h"
#include "app_table.h"
#include "pharos/jitter.h"
#include "pharos/messages.h"
#include "reconcile_lanes.h"
#include "reconciler_context.h"

namespace pharos::agent {

class AppImages {
 public:
  AppImages(ReconcilerContext& ctx, Executor& blocking, ReconcileLanes& lanes,
            const AppTable& table, AppReporter& reporter);

  void setRegistries(std::vector<pharos::RegistryAuth> registries);
  // Queues a pull of `image` unless it runs, or failed and its retry is not due yet.
  void request(const std::string& image);
  // The message of the image's last failed pull while its retry is not due yet.
  std::optional<std::string> failedPull(const std::string& image) const;
  // Pulls that failed for an app's old document get a fresh chance with `file`.
  void retryFailed(const ComposeFile* file);
  // A pull is queued or running.
  bool working() const;
  // Removes the images this agent pulled that no app uses, once every app has settled.
  void prune();

 private:
  struct PullJob {
    enum class State { kQueued, kRunning, kFailed };
    State state = State::kQueued;
    std::string message;
    std::chrono::steady_clock::time_point retry_at{};
    std::chrono::milliseconds retry_delay{0};
    uint64_t order = 0;  // FIFO among queued jobs
  };

  void pump();
  void onPullDone(const std::string& image, Status status);
  std::optional<RegistryAuth> authFor(const std::string& image) const;

  ReconcilerContext& ctx_;
  Executor& blocking_;
  ReconcileLanes& lanes_;
  const AppTable& table_;
  AppReporter& reporter_;
  std::vector<pharos::RegistryAuth> registries_;
  std::map<std::string, std::unique_ptr<PullJob>> pulls_;
  int pulls_running_ = 0;
  uint64_t pull_order_ = 0;
  // Images this agent pulled (prune candidates), with the apps that needed them.
  std::map<std::string, std::set<std::string>> known_images_;
  Jitter jitter_;
};

}  // namespace pharos::agent
