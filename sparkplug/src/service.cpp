// pharos-sparkplug process wiring (service.h).
#include "sparkplug/service.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "pharos/clock.h"
#include "pharos/log.h"
#include "pharos/sd_notify.h"
#include "sparkplug/command_gateway.h"
#include "sparkplug/edge_node.h"

namespace pharos::sparkplug {
namespace {

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr auto kStatsEvery = std::chrono::seconds(60);

void sleepUnlessStopped(const volatile std::sig_atomic_t& stop, std::chrono::milliseconds total) {
  auto end = std::chrono::steady_clock::now() + total;
  while (!stop && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(kTick / 2);
}

bool fatal(const Status& s) {
  return s.code() == Code::kPermissionDenied || s.code() == Code::kInvalidArgument;
}

}  // namespace

BdSeqCounter::BdSeqCounter(std::string dir)
    : path_(dir.empty() ? std::string() : (std::filesystem::path(dir) / "bdseq").string()) {}

Result<uint64_t> BdSeqCounter::next() {
  if (!loaded_ && !path_.empty()) {
    std::ifstream in(path_);
    int64_t v = -1;
    if (in >> v && v >= 0 && v <= 255) last_ = v;
    loaded_ = true;
  }
  const int64_t value = (last_ + 1) % 256;
  if (!path_.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
    const std::string tmp = path_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << value << "\n";
      out.flush();
      if (!out) return Status::unavailable("cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path_, ec);
    if (ec) return Status::unavailable("cannot write " + path_ + ": " + ec.message());
  }
  last_ = value;
  return static_cast<uint64_t>(value);
}

int runSparkplug(const SparkplugSettings& options, const volatile std::sig_atomic_t& stop) {
  SystemClock clock;
  BdSeqCounter bdseqs(options.data_dir);
  if (options.data_dir.empty()) {
    spdlog::warn("no data_dir: bdSeq restarts at 0 with the process");
  }
  std::unique_ptr<CommandGateway> gateway;
  if (options.edge.commands) {
    gateway = std::make_unique<CommandGateway>(makePahoLink(commandMqttOptions(options)),
                                               options.command_username, clock);
    if (Status s = gateway->start(); !s.isOk()) {
      if (fatal(s)) {
        spdlog::error("the broker refused the command identity {}: {}", options.command_username,
                      s.message());
        return 1;
      }
      spdlog::warn("command identity {}: {}; retrying in the background", options.command_username,
                   s.message());
    }
    spdlog::info("DCMD app control on, as broker user {}", options.command_username);
  }
  EdgeNode edge(options.edge, clock, gateway.get());
  auto backoff = std::chrono::milliseconds(100);
  bool notified = false;
  auto last_stats = std::chrono::steady_clock::now();
  while (!stop) {
    auto bdseq = bdseqs.next();
    if (!bdseq) {
      spdlog::error("bdSeq: {}", bdseq.status().message());
      return 1;
    }
    MqttOptions m = edgeMqttOptions(options);
    m.will = edge.deathMessage(*bdseq);
    m.will_retained = false;  // Sparkplug: NDEATH is QoS 1, not retained
    std::atomic<bool> lost{false};
    auto link = makePahoLink(m);
    link->onMessage([&edge](const MqttMessage& message) { edge.onMessage(message); });
    link->onConnection([&lost](bool up) {
      if (!up) lost = true;
    });
    Status s = link->connect();
    if (!s.isOk()) {
      if (fatal(s)) {
        spdlog::error("the broker refused {}: {}", options.connection.username, s.message());
        return 1;
      }
      spdlog::warn("broker {}: {}; retrying in {} ms", options.connection.broker_url, s.message(),
                   backoff.count());
      (void)sdNotifyStatus("broker " + options.connection.broker_url + ": " + s.message());
      sleepUnlessStopped(stop, backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(10'000));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    spdlog::info("connected to {} as {} (bdSeq {})", options.connection.broker_url,
                 options.connection.username, *bdseq);
    edge.sessionStarted(link.get(), *bdseq);
    auto subscriptions = edge.subscriptions();
    auto results = link->subscribeMany(subscriptions);
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].isOk()) {
        spdlog::error(
            "subscribing to {}: {} (does the broker identity {} have the sparkplug "
            "role? docs/scada.md)",
            subscriptions[i].first, results[i].message(), options.connection.username);
      }
    }
    edge.subscribed();
    if (!notified) {
      (void)sdNotifyReady("edge node " + options.edge.group_id + "/" + options.edge.edge_node_id);
      notified = true;
    }
    while (!stop && !lost && !edge.reconnectRequested()) {
      std::this_thread::sleep_for(kTick);
      edge.tick();
      if (gateway) gateway->expire();
      (void)sdNotifyWatchdog();
      if (std::chrono::steady_clock::now() - last_stats >= kStatsEvery) {
        last_stats = std::chrono::steady_clock::now();
        auto st = edge.stats();
        spdlog::info("births {} + {} devices, DDEATH {}, DDATA {}, NDATA {}, refused {}",
                     st.nbirths, st.dbirths, st.ddeaths, st.ddata, st.ndata, st.refused);
      }
    }
    edge.sessionEnded();
    if (lost) {
      spdlog::warn("connection to {} lost; a new session follows", options.connection.broker_url);
      continue;
    }
    if (edge.reconnectRequested()) spdlog::info("primary host offline: ending this session");
    // A deliberate end of the session: NDEATH first, as the will would have said.
    (void)link->publish(edge.deathMessage(*bdseq));
    link->disconnect();
    if (!stop) sleepUnlessStopped(stop, std::chrono::milliseconds(500));
  }
  (void)sdNotifyStopping("shutting down");
  if (gateway) gateway->stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace pharos::sparkplug
