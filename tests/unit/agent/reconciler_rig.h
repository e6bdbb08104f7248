// Test rig of the reconciler (reconciler_test.cpp, reconciler_reporting_test.cpp): a
// Reconciler over FakeDockerClient, ManualClock and ManualExecutor (stops too, unless a test
// gives them their own executor), with the events it emitted. Single-threaded.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "agent/engine_spec.h"
#include "agent/fake_docker.h"
#include "agent/reconciler.h"
#include "pharos/manual_clock.h"
#include "pharos/manual_executor.h"

namespace pharos::agent::reconciler_testing {

using std::chrono::milliseconds;

inline constexpr const char* kShop = R"(
services:
  web:
    image: 127.0.0.1:5000/web:1
    ports: ["8080:80"]
    depends_on: [db]
  db:
    image: 127.0.0.1:5000/db:1
    volumes: ["data:/var/lib/db"]
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  worker:
    image: 127.0.0.1:5000/worker:1
    depends_on: {db: {condition: service_healthy}}
volumes:
  data: {}
)";

struct Rig {
  ManualClock clock;
  ManualExecutor exec{clock};
  std::shared_ptr<Strand> strand = Strand::create(exec);
  FakeDockerClient docker{&clock};
  std::vector<NodeEvent> events;
  std::unique_ptr<Reconciler> rec;
  std::unique_ptr<EventStream> stream;
  Executor* stops = nullptr;  // the stop executor (null: exec)

  explicit Rig(const std::string& node = "edge-1") {
    for (const char* image : {"127.0.0.1:5000/web:1", "127.0.0.1:5000/web:2", "127.0.0.1:5000/db:1",
                              "127.0.0.1:5000/worker:1", "busybox:latest"}) {
      docker.addRegistryImage(image);
    }
    makeReconciler(node);
  }

  void makeReconciler(const std::string& node = "edge-1") {
    stream.reset();
    rec.reset();
    ReconcilerOptions o;
    o.node_id = node;
    o.data_dir = "/tmp/pharos-test";
    o.pull_jitter = milliseconds(0);
    o.create_app_dirs = false;
    o.health_timeout = milliseconds(30'000);
    rec = std::make_unique<Reconciler>(
        docker.api(), *strand, exec, clock, o, [this](NodeEvent e) { events.push_back(e); }, [] {},
        stops);
    stream = docker.system().watchEvents({}, [this](const DockerEvent& e) {
      strand->post([this, e] { rec->onContainerEvent(e); });
    });
  }

  void apply(std::vector<DesiredApp> apps) {
    rec->setDesired(std::move(apps), true);
    settle();
  }
  void settle() { exec.runUntilIdle(); }
  void advance(milliseconds ms) { exec.advance(ms); }

  AppState app(const std::string& name) {
    for (const AppState& a : rec->appStates()) {
      if (a.name == name) return a;
    }
    return AppState{};
  }
  ServiceState service(const std::string& app_name, const std::string& svc) {
    for (const ServiceState& s : app(app_name).services) {
      if (s.name == svc) return s;
    }
    return ServiceState{};
  }
  bool hasEvent(const std::string& kind, const std::string& service = "") {
    return std::any_of(events.begin(), events.end(), [&](const NodeEvent& e) {
      return e.kind == kind && (service.empty() || e.service == service);
    });
  }
  // Makes every container with a healthcheck healthy.
  void allHealthy() {
    auto list = docker.containers().listContainers({}, true);
    for (const ContainerSummary& c : *list) {
      auto info = docker.containers().inspectContainer(c.id);
      if (info->health == "starting") (void)docker.containers().setHealth(c.id, "healthy");
    }
    settle();
  }
};

inline DesiredApp desired(const std::string& compose, int64_t revision = 1,
                          DesiredState state = DesiredState::kRunning,
                          const std::string& name = "shop") {
  DesiredApp d;
  d.spec.name = name;
  d.spec.revision = revision;
  d.spec.compose = compose;
  d.spec.state = state;
  d.source = "node";
  return d;
}

inline std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

}  // namespace pharos::agent::reconciler_testing
