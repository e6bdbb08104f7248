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
#include "pharos/fake_broker.h"

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

}  // namespace pharos::agent::testing
