// `--wait` for deploy and rollback: judges the retained rollout summary
// (pharos/v1/apps/{app}/rollout, RolloutSummary in messages.h) and renders live progress:
// one line per target whose status changes for up to kMaxLineTargets targets, otherwise a
// bar with running/applied/failed/NotReady counts. RolloutTracker is a pure state machine
// (summaries in, text and verdict out) so it is testable without a broker; the runner feeds
// it from the MQTT subscription. Thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "cli/table.h"
#include "pharos/messages.h"

namespace pharos::cli {

inline constexpr int kMaxLineTargets = 20;

enum class RolloutVerdict {
  kInProgress,
  kDone,    // every Ready target runs the revision (NotReady ones are counted apart)
  kFailed,  // at least one target failed
};

// The verdict for `summary` when waiting for `revision` (a summary of another revision is
// kInProgress: the anchor has not published the new one yet).
RolloutVerdict evaluateRollout(const RolloutSummary& summary, int64_t revision);

// "[########------------]  8/20 running  3 applied  1 failed  2 NotReady  6 pending"
std::string rolloutBar(const RolloutSummary& summary, const Style& style, int width = 30);

class RolloutTracker {
 public:
  RolloutTracker(std::string app, int64_t revision, Style style);

  // Feeds one summary; returns the text to print (may be empty). On a terminal with many
  // targets the bar line starts with '\r' to redraw in place.
  std::string update(const RolloutSummary& summary, bool terminal);
  RolloutVerdict verdict() const { return verdict_; }

  // Final message: success, the per-node failures with their messages, or the timeout
  // (with what was still missing).
  std::string finish(bool timed_out, std::chrono::milliseconds timeout) const;

 private:
  std::string app_;
  int64_t revision_;
  Style style_;
  std::optional<RolloutSummary> last_;
  RolloutVerdict verdict_ = RolloutVerdict::kInProgress;
  bool bar_shown_ = false;
};

}  // namespace pharos::cli
