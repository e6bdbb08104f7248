// pharos-fleetsim: a LOAD GENERATOR, not part of the product. It runs many "hollow agents" in
// one process: the real pharos::agent::Agent (MQTT link over Paho, desired-state handling,
// reconciler, reporting) with only the container runtime swapped for the in-memory
// FakeDockerClient, like Kubernetes' kubemark hollow nodes. Several processes (--shard i/n)
// split a large fleet, because one Paho process with thousands of clients slows down
// superlinearly (DESIGN.md section 1). In --floor mode it runs plain MQTT subscribers instead
// (the broker-only floor of the fan-out benchmark), optionally answering through the broker
// (--floor-echo) to one collector (--floor-collect): the broker-only round trip, with one
// small answer or with a rollout's reports (--floor-echo-contract).
//
// Threading: one ThreadPoolExecutor shared by every agent of the process (the agents own no
// threads); Paho's own threads deliver link callbacks. Fleet methods are called from the main
// thread only; progress lines go to stdout as JSON, one object per line.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pharos/status.h"

namespace pharos::fleetsim {

struct FleetOptions {
  std::string url = "tcp://127.0.0.1:1883";
  std::string prefix = "sim";  // node ids are <prefix>-<index, 5 digits>
  int nodes = 100;             // fleet size (all shards together)
  int first = 0;               // index of the first node of the fleet
  int shard = 0;               // this process runs shard `shard` of `shards`
  int shards = 1;
  std::string password;     // every hollow agent's broker password (--password-file)
  std::string floor_user;   // --floor: the broker user of the floor subscribers
  std::string floor_topic;  // --floor: the topic they subscribe to
  bool floor = false;
  // --floor-echo: each floor subscriber answers with one QoS 1 message on
  // <floor_topic>/echo/<node> (the round trip any acknowledgment needs). --floor-collect: run
  // one subscriber of <floor_topic>/echo/# instead, counting the answers of --nodes nodes.
  bool floor_echo = false;
  bool floor_collect = false;
  // --floor-echo-contract: answer like a hollow agent reporting a rollout instead (an
  // app_applied event, then a one-app state, both QoS 1), and the collector counts states.
  bool floor_echo_contract = false;
  int threads = 4;
  std::chrono::seconds keep_alive{10};
  std::chrono::milliseconds reconcile_interval{30'000};
  std::chrono::milliseconds metrics_interval{15'000};
  std::chrono::milliseconds pull_jitter{0};
  std::chrono::milliseconds stats_interval{1000};
  std::vector<std::string> images;  // pullable from the simulated registry
  std::string log_level = "warn";
};

// Parses the command line; help text in `help` (then exit 0). invalid_argument on errors.
Result<FleetOptions> parseFleetOptions(int argc, char** argv, std::string& help);

// The node ids this process runs.
std::vector<std::string> shardNodes(const FleetOptions& options);

// Runs the shard until `stop` becomes true, printing progress; returns the exit code.
int runFleet(const FleetOptions& options, const std::atomic<bool>& stop);

// --floor mode (floor.cpp): the shard's plain subscribers, or the collector.
int runFloor(const FleetOptions& options, const std::vector<std::string>& nodes,
             const std::atomic<bool>& stop);

}  // namespace pharos::fleetsim
