// pharos-fleetsim's fleet: builds one hollow agent (Agent + FakeDockerClient + in-memory
// StateFile) per node of the shard and prints progress as JSON lines (--floor mode is in
// floor.cpp). See fleet.h for the contract.
#include "fleet.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "agent/agent.h"
#include "agent/fake_docker.h"
#include "agent/state_file.h"
#include "fleet_util.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/log.h"
#include "pharos/mqtt_link.h"
#include "pharos/tcp_nodelay.h"

namespace pharos::fleetsim {
namespace {

long rssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

Result<std::string> readFirstLine(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::invalidArgument("cannot read " + path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) return Status::invalidArgument(path + " is empty");
  return line;
}

struct Hollow {
  std::string node;
  std::unique_ptr<agent::FakeDockerClient> docker;
  std::unique_ptr<agent::StateFile> state_file;
  std::atomic<MqttLink*> link{nullptr};
  std::unique_ptr<agent::Agent> agent;
};

}  // namespace

Result<FleetOptions> parseFleetOptions(int argc, char** argv, std::string& help) {
  FleetOptions o;
  CLI::App app{
      "pharos-fleetsim: LOAD GENERATOR for benchmarks only. Runs hollow agents (the real "
      "agent with an in-memory container runtime) against a real broker and anchor."};
  std::string shard = "0/1";
  std::string password_file;
  int keep_alive_s = 10;
  int reconcile_ms = 30'000, metrics_ms = 15'000, jitter_ms = 0, stats_ms = 1000;
  app.add_option("--url", o.url, "broker URL");
  app.add_option("--prefix", o.prefix, "node id prefix (ids are <prefix>-NNNNN)");
  app.add_option("--nodes", o.nodes, "fleet size (all shards)")->check(CLI::Range(1, 1'000'000));
  app.add_option("--first", o.first, "index of the first node")->check(CLI::Range(0, 1'000'000));
  app.add_option("--shard", shard, "this process's shard, i/n (contiguous ranges)");
  app.add_option("--password-file", password_file, "every hollow agent's broker password")
      ->required();
  app.add_flag("--floor", o.floor, "run plain subscribers of --floor-topic instead of agents");
  app.add_option("--floor-user", o.floor_user, "broker user of the floor subscribers");
  app.add_option("--floor-topic", o.floor_topic, "topic the floor subscribers subscribe to");
  app.add_flag("--floor-echo", o.floor_echo,
               "floor subscribers answer on <floor-topic>/echo/<node> (QoS 1)");
  app.add_flag("--floor-echo-contract", o.floor_echo_contract,
               "floor subscribers answer like an agent reporting a rollout: an app_applied "
               "event, then its state (QoS 1); with --floor-collect, count the states");
  app.add_flag("--floor-collect", o.floor_collect,
               "run one subscriber of <floor-topic>/echo/# counting --nodes answers");
  app.add_option("--threads", o.threads, "executor threads shared by the agents")
      ->check(CLI::Range(1, 256));
  app.add_option("--keep-alive", keep_alive_s, "MQTT keep-alive, seconds")
      ->check(CLI::Range(1, 3600));
  app.add_option("--reconcile-interval-ms", reconcile_ms, "periodic full reconcile");
  app.add_option("--metrics-interval-ms", metrics_ms, "metrics reports");
  app.add_option("--pull-jitter-ms", jitter_ms, "max random delay before a pull");
  app.add_option("--stats-interval-ms", stats_ms, "progress line period");
  app.add_option("--image", o.images, "image pullable from the simulated registry (repeat)");
  app.add_option("--log-level", o.log_level, "spdlog level of the agents");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    help = app.help();
    return o;
  } catch (const CLI::ParseError& e) {
    return Status::invalidArgument(e.what());
  }
  int i = 0, n = 0;
  char slash = 0;
  std::istringstream in(shard);
  if (!(in >> i >> slash >> n) || slash != '/' || n < 1 || i < 0 || i >= n) {
    return Status::invalidArgument("--shard must be i/n with 0 <= i < n");
  }
  o.shard = i;
  o.shards = n;
  if (o.floor && (o.floor_user.empty() || o.floor_topic.empty())) {
    return Status::invalidArgument("--floor needs --floor-user and --floor-topic");
  }
  if ((o.floor_echo || o.floor_collect || o.floor_echo_contract) && !o.floor) {
    return Status::invalidArgument(
        "--floor-echo, --floor-echo-contract and --floor-collect need --floor");
  }
  auto pw = readFirstLine(password_file);
  if (!pw.isOk()) return pw.status();
  o.password = *pw;
  o.keep_alive = std::chrono::seconds(keep_alive_s);
  o.reconcile_interval = std::chrono::milliseconds(reconcile_ms);
  o.metrics_interval = std::chrono::milliseconds(metrics_ms);
  o.pull_jitter = std::chrono::milliseconds(jitter_ms);
  o.stats_interval = std::chrono::milliseconds(std::max(100, stats_ms));
  if (o.images.empty()) o.images = {"busybox:1.36", "nginx:1.25", "eclipse-mosquitto:2"};
  return o;
}

std::vector<std::string> shardNodes(const FleetOptions& o) {
  int64_t begin = static_cast<int64_t>(o.nodes) * o.shard / o.shards;
  int64_t end = static_cast<int64_t>(o.nodes) * (o.shard + 1) / o.shards;
  std::vector<std::string> out;
  for (int64_t k = begin; k < end; ++k)
    out.push_back(fmt::format("{}-{:05d}", o.prefix, o.first + k));
  return out;
}

int runFleet(const FleetOptions& o, const std::atomic<bool>& stop) {
  setupLogging("fleetsim", o.log_level);
  std::vector<std::string> nodes = shardNodes(o);
  if (o.floor) return runFloor(o, nodes, stop);

  SystemClock clock;
  ThreadPoolExecutor executor("hollow", o.threads);
  std::vector<std::unique_ptr<Hollow>> fleet;
  fleet.reserve(nodes.size());
  long rss_before = rssKb();
  for (const std::string& node : nodes) {
    auto h = std::make_unique<Hollow>();
    h->node = node;
    h->docker = std::make_unique<agent::FakeDockerClient>(&clock);
    for (const auto& image : o.images) h->docker->addRegistryImage(image);
    h->state_file = std::make_unique<agent::StateFile>("");  // in memory
    agent::AgentOptions a;
    a.node_id = node;
    a.labels = {{"fleet", "sim"}};
    a.mqtt.url = o.url;
    a.mqtt.client_id = node;
    a.mqtt.username = node;
    a.mqtt.password = o.password;
    a.mqtt.keep_alive = o.keep_alive;
    // One scan of the process's descriptors per link connect would cost O(links^2) here:
    // the loop below sets TCP_NODELAY on every agent's socket at once instead.
    a.mqtt.tcp_nodelay = false;
    a.reconcile_interval = o.reconcile_interval;
    a.metrics_interval = o.metrics_interval;
    a.host_metrics = false;
    a.keys = sealed::generateKeyPair();  // as a real agent: secrets are sealed to it
    a.reconciler.data_dir = "/nonexistent/pharos-fleetsim";
    a.reconciler.create_app_dirs = false;
    a.reconciler.pull_jitter = o.pull_jitter;
    Hollow* raw = h.get();
    h->agent = std::make_unique<agent::Agent>(a, executor, h->docker->api(), clock, *h->state_file,
                                              [raw](MqttOptions m) {
                                                auto link = makePahoLink(std::move(m));
                                                raw->link = link.get();
                                                return link;
                                              });
    fleet.push_back(std::move(h));
  }
  int64_t t0 = wallMs();
  for (auto& h : fleet) h->agent->start();
  emitLine(fmt::format(R"({{"event":"started","nodes":{},"shard":"{}/{}","pid":{},"ts":{}}})",
                       fleet.size(), o.shard, o.shards, getpid(), t0));
  bool all_reported = false;
  auto next_stats = std::chrono::steady_clock::now();
  auto next_scan = next_stats;
  int scanned_connected = -1;
  std::optional<uint16_t> broker_port = mqttUrlPort(o.url);
  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    int connected = 0;
    for (auto& h : fleet) {
      MqttLink* link = h->link.load();
      connected += link != nullptr && link->connected() ? 1 : 0;
    }
    bool all = connected == static_cast<int>(fleet.size());
    auto now = std::chrono::steady_clock::now();
    if ((all && !all_reported) || now >= next_stats) {
      // Like a real agent's link (MqttOptions::tcp_nodelay), for every (re)connected agent:
      // one scan of the descriptors when the connected count moved, else every 10 s.
      if (broker_port && (connected != scanned_connected || now >= next_scan)) {
        setTcpNoDelayToPort(*broker_port);
        scanned_connected = connected;
        next_scan = now + std::chrono::seconds(10);
      }
      long rss = rssKb();
      emitLine(fmt::format(
          R"({{"event":"{}","connected":{},"nodes":{},"rss_kb":{},"rss_per_agent_kb":{:.1f},"ms":{},"ts":{}}})",
          all && !all_reported ? "all-connected" : "stats", connected, fleet.size(), rss,
          fleet.empty() ? 0.0 : static_cast<double>(rss - rss_before) / fleet.size(), wallMs() - t0,
          wallMs()));
      all_reported = all_reported || all;
      next_stats = now + o.stats_interval;
    }
  }
  // Clean stop: every agent publishes NotReady ("agent stopped") and disconnects. Agents stop
  // in parallel from a few plain threads (stop() must not run on the executor's threads).
  std::atomic<size_t> next{0};
  std::vector<std::thread> stoppers;
  for (int t = 0; t < 8; ++t) {
    stoppers.emplace_back([&] {
      for (size_t k = next++; k < fleet.size(); k = next++) fleet[k]->agent->stop();
    });
  }
  for (auto& t : stoppers) t.join();
  executor.shutdown();
  emitLine(fmt::format(R"({{"event":"stopped","nodes":{},"ts":{}}})", fleet.size(), wallMs()));
  return 0;
}

}  // namespace pharos::fleetsim
