// The reconciler's scheduling (docs/agent.md "Threads"): one lane (a strand over the blocking
// executor) per app and one for the orphan pass (key ""), a timer per lane for its next pass,
// and the life gate that shutdown() closes. A lane is kept when its app is dropped, so that a
// pass still running for it and one for the same name desired again never run at once. The
// mutex is the reconciler's (ReconcilerContext); methods run with it held unless said.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "pharos/executor.h"
#include "reconciler_context.h"

namespace pharos::agent {

class ReconcileLanes {
 public:
  // Runs the pass of a lane ("" = the orphan pass), on that lane, mutex not held.
  using RunPass = std::function<void(const std::string& key)>;

  ReconcileLanes(ReconcilerContext& ctx, Executor& blocking, RunPass run);

  // A task that runs only while the gate is open; shutdown() waits for it. Mutex not needed.
  Task guarded(Task task) const;
  // A task that runs only while the gate is open, which shutdown() does not wait for (a stop
  // in flight). Mutex not needed.
  Task whileOpen(Task task) const;

  std::shared_ptr<Strand> lane(const std::string& key);
  // Runs the lane's pass after `delay`, unless one is due sooner already.
  void schedule(const std::string& key, std::chrono::milliseconds delay);
  // Drops the lane's scheduled pass, if any.
  void cancel(const std::string& key);
  // An app's pass is due now (the orphan pass does not count).
  bool appPassDue() const;

  // Closes the gate, waits for the guarded tasks running and cancels the timers. Mutex not held.
  void shutdown();

 private:
  struct Life {
    std::mutex mu;
    std::condition_variable idle;
    bool open = true;
    int running = 0;
  };

  void runScheduled(const std::string& key);  // on the lane, mutex not held

  ReconcilerContext& ctx_;
  Executor& blocking_;
  RunPass run_;
  std::shared_ptr<Life> life_ = std::make_shared<Life>();
  std::map<std::string, std::shared_ptr<Strand>> lanes_;
  std::map<std::string, uint64_t> timers_;  // key -> timer id
  std::map<std::string, std::chrono::steady_clock::time_point> timer_due_;
};

}  // namespace pharos::agent
