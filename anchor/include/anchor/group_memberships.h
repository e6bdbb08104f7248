// GroupMemberships: the site broker's group memberships as the anchor last told it
// (group_rights.h), the changes queued since, and the pace at which they go out.
//
// Every membership change disconnects the nodes it concerns, and a disconnected node takes a
// few seconds to reconnect and subscribe again. Forming several large groups one after the
// other would otherwise disconnect the same nodes again and again while they reconnect, and
// a group of 10,000 would disconnect 10,000 nodes at once. So:
// - changes concerning at most kBulkMembershipChanges nodes go out at once;
// - larger ones are bulk: at most `max_nodes` nodes per step (all of a node's queued changes
//   together, so it is disconnected once for them), one step at a time (the next once the
//   broker answered the last and `step_gap` has passed), and a node disconnected by a bulk
//   step waits `settle` before another bulk step disconnects it again.
//
// Pure (no I/O, time passed in). Not thread-safe; the broker admin uses it on its strand.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "anchor/group_rights.h"
#include "pharos/json.h"

namespace pharos::anchor {

struct MembershipPacing {
  size_t max_nodes = 1000;                    // nodes one bulk step may disconnect
  std::chrono::milliseconds step_gap{1'000};  // between the answer to a bulk step and the next
  std::chrono::milliseconds settle{5'000};    // a node's rest between two bulk steps
};

class GroupMemberships {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit GroupMemberships(MembershipPacing pacing = {}) : pacing_(pacing) {}

  // From now on the broker is known to hold `placed` (what the reconciliation brings it to,
  // which already includes every change queued so far: those are dropped).
  void reset(Placements placed);
  // `node` joined `added` and left `removed` (queued until take()).
  void change(const std::string& node, const std::set<std::string>& added,
              const std::set<std::string>& removed);
  // `node`'s client is gone (the broker dropped its memberships with it).
  void forgetNode(const std::string& node);
  // A client created with memberships of `groups` (their base groups): the commands that make
  // sure each group exists first (once per group and process), and the memberships noted.
  std::vector<Json> created(const std::string& node, const std::set<std::string>& groups);

  bool pending() const { return !pending_.empty(); }
  // The queued changes that may go out at `now` as commands (each group made first if not yet
  // done in this process); what they change is noted as what the broker holds. `bulk` tells
  // whether they are a bulk step (then call stepAnswered() when the broker answered it).
  std::vector<Json> take(TimePoint now, bool* bulk = nullptr);
  void stepAnswered(TimePoint now);
  // When take() next has something to send, if anything is queued (now or later).
  std::optional<TimePoint> nextDue(TimePoint now) const;

 private:
  using Changes = std::map<std::string, bool>;  // group -> joined (true) or left (false)

  std::vector<std::string> bulkStep(TimePoint now) const;
  std::vector<Json> render(const std::vector<std::string>& nodes, std::set<std::string>* kicked);
  void ensure(std::vector<Json>& out, const std::string& group);

  MembershipPacing pacing_;
  bool known_ = false;
  Placements placed_;
  std::set<std::string> made_;              // groups whose role and base group this process created
  std::map<std::string, Changes> pending_;  // node -> its queued changes
  std::map<std::string, TimePoint> kicked_;  // node -> when a bulk step disconnected it
  bool step_in_flight_ = false;
  std::optional<TimePoint> last_step_answered_;
};

}  // namespace pharos::anchor
