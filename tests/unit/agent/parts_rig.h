// Shared pieces of the unit tests of the agent's parts (desired_feed_test, state_reporter_test,
// node_publisher_test, node_commands_test, metrics_reporter_test): DesiredDocs effects that do
// nothing but recompute, and a NodePublisher put online on a FakeBroker link. Single-threaded.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "agent/desired_docs.h"
#include "agent/node_publisher.h"
#include "pharos/executor.h"
#include "pharos/fake_broker.h"
#include "pharos/manual_clock.h"
#include "pharos/manual_executor.h"

namespace pharos::agent::testing {

// DesiredDocs effects that do nothing but `recompute`; no key pair for secrets.
inline DesiredDocs::Effects quietEffects(std::function<void()> recompute) {
  DesiredDocs::Effects e;
  e.emit = [](const std::string&, const std::string&, const std::string&, const std::string&) {};
  e.persist = [] {};
  e.recompute = std::move(recompute);
  e.report = [] {};
  e.groups_listed = [] {};
  e.registries = [](const std::vector<pharos::RegistryAuth>&) {};
  e.open_secrets = [](const std::string&) -> Result<SecretsDoc> {
    return Status::permissionDenied("no key pair");
  };
  return e;
}

// Connects `link` and makes `publisher` send on it.
inline void goOnline(FakeBroker& broker, MqttLink& link, NodePublisher& publisher) {
  REQUIRE(link.connect().isOk());
  broker.deliverAll();
  publisher.setLink(&link);
  publisher.setConnected(true);
}

// What every part's rig starts from: a manual clock and executor, a strand on it, and a
// NodePublisher for "edge-1" with a FakeBroker link (not yet online: goOnline).
struct PartsBase {
  ManualClock clock;
  ManualExecutor exec{clock};
  std::shared_ptr<Strand> strand = Strand::create(exec);
  FakeBroker broker;
  std::unique_ptr<MqttLink> link = makeFakeLink(broker, "edge-1");
  NodePublisher publisher{"edge-1", clock, 8};
};

}  // namespace pharos::agent::testing
