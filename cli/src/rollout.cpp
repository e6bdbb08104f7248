// Rollout progress for --wait (see rollout.h).
#include "cli/rollout.h"

#include <fmt/format.h>

#include <map>

#include "cli/settings.h"

namespace pharos::cli {

namespace {
// The summary speaks of a staged rollout of `revision` (its own revision is the previous one
// once the rollout returned to it).
bool stagedOf(const RolloutSummary& s, int64_t revision) {
  return s.staged && s.staged->revision == revision;
}
}  // namespace

RolloutVerdict evaluateRollout(const RolloutSummary& s, int64_t revision) {
  if (stagedOf(s, revision)) {
    const std::string& phase = s.staged->phase;
    if (phase == "complete") return RolloutVerdict::kDone;
    if (phase == "rolled_back" || phase == "aborted" || phase == "paused") {
      return RolloutVerdict::kFailed;
    }
    return RolloutVerdict::kInProgress;
  }
  if (s.revision != revision) return RolloutVerdict::kInProgress;
  if (s.failed > 0) return RolloutVerdict::kFailed;
  if (s.pending == 0 && s.applied == 0 && s.running + s.notready >= s.total) {
    return RolloutVerdict::kDone;
  }
  return RolloutVerdict::kInProgress;
}

std::string rolloutBar(const RolloutSummary& s, const Style& style, int width) {
  int total = s.total > 0 ? s.total : 1;
  int done = static_cast<int>(static_cast<int64_t>(s.running) * width / total);
  int bad = static_cast<int>(static_cast<int64_t>(s.failed) * width / total);
  if (done + bad > width) bad = width - done;
  std::string bar = paint(style, Color::kGreen, std::string(static_cast<size_t>(done), '#')) +
                    paint(style, Color::kRed, std::string(static_cast<size_t>(bad), '!')) +
                    std::string(static_cast<size_t>(width - done - bad), '-');
  return fmt::format("[{}] {}/{} running  {} applied  {} failed  {} NotReady  {} pending", bar,
                     s.running, s.total, s.applied, s.failed, s.notready, s.pending);
}

RolloutTracker::RolloutTracker(std::string app, int64_t revision, Style style)
    : app_(std::move(app)), revision_(revision), style_(style) {}

std::string RolloutTracker::update(const RolloutSummary& s, bool terminal) {
  if (s.revision != revision_ && !stagedOf(s, revision_)) return "";
  std::string out;
  if (stagedOf(s, revision_)) {
    const RolloutStaged& st = *s.staged;
    std::string line = fmt::format(
        "  wave {}/{}: {}{}", st.wave, st.waves, st.phase,
        st.soak_left_ms > 0 ? fmt::format(" (soak {} s left)", (st.soak_left_ms + 999) / 1000)
                            : std::string());
    bool same = last_ && last_->staged && last_->staged->wave == st.wave &&
                last_->staged->phase == st.phase;
    if (!same) out += line + "\n";
  }
  if (s.total <= kMaxLineTargets && !s.truncated) {
    std::map<std::string, std::string> before;
    if (last_) {
      for (const auto& n : last_->nodes) before[n.node] = n.status + "\n" + n.message;
    }
    for (const auto& n : s.nodes) {
      if (before[n.node] == n.status + "\n" + n.message) continue;
      out += fmt::format("  {:<24} {}{}\n", n.node, paint(style_, stateColor(n.status), n.status),
                         n.message.empty() ? "" : "  " + n.message);
    }
  } else {
    std::string bar = rolloutBar(s, style_);
    if (!last_ || rolloutBar(*last_, style_) != bar) {
      out = terminal ? "\r" + bar : bar + "\n";
      bar_shown_ = terminal;
    }
  }
  last_ = s;
  verdict_ = evaluateRollout(s, revision_);
  return out;
}

std::string RolloutTracker::finish(bool timed_out, std::chrono::milliseconds timeout) const {
  std::string out = bar_shown_ ? "\n" : "";
  if (verdict_ == RolloutVerdict::kDone && last_) {
    out += fmt::format("{}: app {} revision {} is running on {} of {} targets",
                       paint(style_, Color::kGreen, "rolled out"), app_, revision_, last_->running,
                       last_->total);
    if (last_->notready > 0) {
      out += fmt::format(" ({} NotReady: they apply it when they come back)", last_->notready);
    }
    return out + "\n";
  }
  if (verdict_ == RolloutVerdict::kFailed && last_ && stagedOf(*last_, revision_)) {
    const RolloutStaged& st = *last_->staged;
    return out + fmt::format("{}: app {} revision {}: staged rollout {} at wave {} of {}: {}\n",
                             paint(style_, Color::kRed, "rollout stopped"), app_, revision_,
                             st.phase, st.wave, st.waves, st.reason);
  }
  if (verdict_ == RolloutVerdict::kFailed && last_) {
    out += fmt::format("{}: app {} revision {} failed on {} of {} targets:\n",
                       paint(style_, Color::kRed, "rollout failed"), app_, revision_, last_->failed,
                       last_->total);
    for (const auto& n : last_->nodes) {
      if (n.status != "failed") continue;
      out += fmt::format("  {}: {}\n", n.node, n.message.empty() ? "(no message)" : n.message);
    }
    if (last_->truncated) out += "  (list truncated; see `pharosctl app get`)\n";
    return out;
  }
  if (timed_out) {
    out += fmt::format("{}: app {} revision {} not rolled out after {}",
                       paint(style_, Color::kRed, "timeout"), app_, revision_,
                       formatDuration(timeout));
    if (!last_ || last_->revision != revision_) {
      out += " (no rollout summary for this revision was published: is pharos-anchor running?)\n";
      return out;
    }
    out += fmt::format(": {} running, {} applied, {} pending, {} NotReady of {}\n", last_->running,
                       last_->applied, last_->pending, last_->notready, last_->total);
    int shown = 0;
    for (const auto& n : last_->nodes) {
      if (n.status == "running" || shown >= kMaxLineTargets) continue;
      out += fmt::format("  {}: {}{}\n", n.node, n.status,
                         n.message.empty() ? "" : " (" + n.message + ")");
      ++shown;
    }
  }
  return out;
}

}  // namespace pharos::cli
