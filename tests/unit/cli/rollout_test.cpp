// --wait: the rollout verdict, per-target progress lines, the bar, and the final messages.
#include "cli/rollout.h"

#include <doctest/doctest.h>

using pharos::RolloutNode;
using pharos::RolloutSummary;
using namespace pharos::cli;

namespace {

RolloutSummary summary(int64_t revision, std::vector<RolloutNode> nodes) {
  RolloutSummary s;
  s.app = "web";
  s.target_kind = "group";
  s.target = "line1";
  s.revision = revision;
  s.total = static_cast<int>(nodes.size());
  for (const auto& n : nodes) {
    if (n.status == "pending") ++s.pending;
    if (n.status == "applied") ++s.applied;
    if (n.status == "running") ++s.running;
    if (n.status == "failed") ++s.failed;
    if (n.status == "notready") ++s.notready;
  }
  s.nodes = std::move(nodes);
  return s;
}

}  // namespace

TEST_CASE("the rollout is done when every Ready target runs the revision") {
  CHECK(evaluateRollout(summary(2, {{"a", "running", ""}, {"b", "running", ""}}), 2) ==
        RolloutVerdict::kDone);
  CHECK(evaluateRollout(summary(2, {{"a", "running", ""}, {"b", "notready", ""}}), 2) ==
        RolloutVerdict::kDone);
  CHECK(evaluateRollout(summary(2, {{"a", "running", ""}, {"b", "applied", ""}}), 2) ==
        RolloutVerdict::kInProgress);
  CHECK(evaluateRollout(summary(2, {{"a", "pending", ""}}), 2) == RolloutVerdict::kInProgress);
  CHECK(evaluateRollout(summary(2, {{"a", "running", ""}, {"b", "failed", "pull"}}), 2) ==
        RolloutVerdict::kFailed);
  // A summary of the previous revision says nothing about this one.
  CHECK(evaluateRollout(summary(1, {{"a", "running", ""}}), 2) == RolloutVerdict::kInProgress);
}

TEST_CASE("a staged rollout is done when complete and stops when paused or rolled back") {
  auto staged = [](int64_t summary_revision, const char* phase) {
    RolloutSummary s = summary(summary_revision, {{"a", "running", ""}, {"b", "running", ""}});
    s.staged = pharos::RolloutStaged{};
    s.staged->phase = phase;
    s.staged->revision = 2;
    s.staged->wave = 1;
    s.staged->waves = 2;
    s.staged->previous_revision = 1;
    s.staged->reason = "wave 1: 1 node(s) failed (a: CrashLoop)";
    return s;
  };
  // Nodes outside the wave run the previous revision: running, but the rollout goes on.
  CHECK(evaluateRollout(staged(2, "gating"), 2) == RolloutVerdict::kInProgress);
  CHECK(evaluateRollout(staged(2, "complete"), 2) == RolloutVerdict::kDone);
  CHECK(evaluateRollout(staged(2, "paused"), 2) == RolloutVerdict::kFailed);
  // Rolled back: the summary's revision is the previous one again.
  RolloutTracker t("web", 2, Style{});
  CHECK(t.update(staged(2, "gating"), false).find("wave 1/2: gating") != std::string::npos);
  (void)t.update(staged(1, "rolled_back"), false);
  CHECK(t.verdict() == RolloutVerdict::kFailed);
  std::string end = t.finish(false, std::chrono::minutes(5));
  CHECK(end.find("rolled_back at wave 1 of 2") != std::string::npos);
  CHECK(end.find("a: CrashLoop") != std::string::npos);
}

TEST_CASE("few targets: one line per target whose status changes") {
  RolloutTracker t("web", 2, Style{});
  CHECK(t.update(summary(1, {{"a", "running", ""}}), false).empty());
  CHECK(t.update(summary(2, {{"a", "pending", ""}, {"b", "pending", ""}}), false) ==
        "  a                        pending\n  b                        pending\n");
  CHECK(t.update(summary(2, {{"a", "running", ""}, {"b", "pending", ""}}), false) ==
        "  a                        running\n");
  CHECK(t.verdict() == RolloutVerdict::kInProgress);
  CHECK(t.update(summary(2, {{"a", "running", ""}, {"b", "failed", "image not found"}}), false) ==
        "  b                        failed  image not found\n");
  CHECK(t.verdict() == RolloutVerdict::kFailed);
  std::string end = t.finish(false, std::chrono::minutes(5));
  CHECK(end.find("rollout failed: app web revision 2 failed on 1 of 2 targets") !=
        std::string::npos);
  CHECK(end.find("  b: image not found\n") != std::string::npos);
}

TEST_CASE("many targets: a bar with the counts") {
  std::vector<RolloutNode> nodes;
  for (int i = 0; i < 40; ++i) {
    nodes.push_back({"n" + std::to_string(i),
                     i < 10   ? "running"
                     : i < 12 ? "notready"
                              : "pending",
                     ""});
  }
  RolloutTracker t("web", 3, Style{});
  std::string line = t.update(summary(3, nodes), false);
  CHECK(line ==
        "[#######-----------------------] 10/40 running  0 applied  0 failed  2 NotReady  28 "
        "pending\n");
  CHECK(t.update(summary(3, nodes), false).empty());  // unchanged: nothing printed
  CHECK(t.update(summary(3, nodes), true).empty());
  for (auto& n : nodes) {
    if (n.status == "pending") n.status = "running";
  }
  std::string redraw = t.update(summary(3, nodes), true);
  CHECK(redraw.rfind("\r[", 0) == 0);
  CHECK(t.verdict() == RolloutVerdict::kDone);
  std::string end = t.finish(false, std::chrono::minutes(5));
  CHECK(end.find("running on 38 of 40 targets (2 NotReady") != std::string::npos);
}

TEST_CASE("a timeout says what is still missing") {
  RolloutTracker none("web", 2, Style{});
  CHECK(none.finish(true, std::chrono::seconds(30)).find("no rollout summary") !=
        std::string::npos);
  RolloutTracker t("web", 2, Style{});
  (void)t.update(summary(2, {{"a", "running", ""}, {"b", "applied", "starting"}}), false);
  std::string end = t.finish(true, std::chrono::seconds(30));
  CHECK(end.find("timeout: app web revision 2 not rolled out after 30 s") != std::string::npos);
  CHECK(end.find("  b: applied (starting)") != std::string::npos);
  CHECK(end.find("  a:") == std::string::npos);
}
