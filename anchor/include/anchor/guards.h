// Guards against forged or replayed input from clients the broker authenticated but the
// anchor does not trust (docs/security.md "Threat model"): a status or heartbeat whose
// session is far ahead of the anchor's clock (it would pin a node's health and hide its real
// death), a store that already holds such a session (healed at start), and requests left
// retained on api/... or nodes/+/cmd/... (the broker would replay them on every
// subscription). Each refusal is logged (rate-limited, logMalformed) and counted
// (securityCount).
//
// Threading: runs on the anchor's strand.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "anchor/anchor_config.h"
#include "anchor/doc_publisher.h"
#include "anchor/registry.h"
#include "pharos/clock.h"
#include "pharos/mqtt_link.h"
#include "pharos/status.h"

namespace pharos::anchor {

class Guards {
 public:
  Guards(const AnchorOptions& config, Clock& clock) : config_(config), clock_(clock) {}

  // How often a guard refused untrusted input, by kind (Anchor::securityCount).
  uint64_t securityCount(const std::string& what) const;
  // Adds `n` to the count of `what`; returns the new count.
  uint64_t count(const std::string& what, uint64_t n = 1);

  // False (logged, counted) when `session` is too far ahead of the anchor's clock.
  bool sessionBelievable(const std::string& node, int64_t session, const char* what);
  // Resets stored sessions that are too far ahead; returns the nodes whose health changed.
  std::vector<std::string> healSessions(Registry& reg);
  // True when `message` is a retained request (not to be executed); clears it.
  bool dropRetainedRequest(const MqttMessage& message, DocPublisher& publisher);

  // Logs dropped input, at most once per malformed_log_interval for each `what`.
  void logMalformed(const std::string& what, const std::string& topic, const Status& status);

 private:
  bool tooFarAhead(int64_t session) const;

  const AnchorOptions& config_;
  Clock& clock_;
  std::map<std::string, uint64_t> security_counts_;
  std::map<std::string, int64_t> malformed_logged_;  // what -> last log (ms)
  std::map<std::string, int64_t> malformed_dropped_;
};

}  // namespace pharos::anchor
