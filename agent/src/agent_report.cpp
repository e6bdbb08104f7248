// Agent core, reporting side (see agent.h): status, info, heartbeats, debounced state, events
// (buffered while offline), metrics (collected off the strand) and the cmd/logs, cmd/inspect
// commands answered on the request's response topic.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/agent.h"
#include "agent/engine_spec.h"
#include "pharos/api.h"
#include "pharos/topics.h"

namespace pharos::agent {
namespace {

std::string statusTopic(const std::string& node) {
  return topics::node(node, topics::NodeTopic::kStatus);
}

}  // namespace

void Agent::publishStatus(bool ready, const std::string& reason) {
  if (!link_) return;
  NodeStatus st{ready ? Readiness::kReady : Readiness::kNotReady, session_, reason, clock_.nowMs()};
  Status s = link_->publish(
      MqttMessage{statusTopic(options_.node_id), dumpJson(encode(st)), 1, true, "", ""});
  if (!s.isOk()) spdlog::warn("publish status: {}", s.message());
}

void Agent::publishInfo() {
  if (!link_) return;
  NodeInfo info;
  info.agent_version = PHAROS_VERSION;
  if (options_.host_metrics) fillHostInfo(info, options_.reconciler.data_dir);
  info.docker_version = docker_version_.version;
  info.docker_api = docker_version_.api_version;
  if (info.os.empty()) info.os = docker_version_.os;
  if (info.arch.empty()) info.arch = buildArch();  // without host facts (fleet simulator) too
  if (info.arch.empty()) info.arch = docker_version_.arch;
  if (info.kernel.empty()) info.kernel = docker_version_.kernel_version;
  info.broker = options_.mqtt.url;
  info.labels = options_.labels;
  if (!options_.keys.public_key.empty())
    info.public_key = sealed::toBase64(options_.keys.public_key);
  info.ts = clock_.nowMs();
  (void)link_->publish(MqttMessage{topics::node(options_.node_id, topics::NodeTopic::kInfo),
                                   dumpJson(encode(info)), 1, true, "", ""});
}

// Heartbeats (docs/protocol.md "Health"): the anchor turns the node NotReady when none arrives
// for 1.5 x keep-alive, so sending every keep-alive / 2 leaves one whole keep-alive for
// delays. QoS 0, not retained: a heartbeat that cannot be sent now is worth nothing later.
std::chrono::milliseconds Agent::heartbeatInterval() const {
  if (options_.heartbeat_interval.count() > 0) {
    return std::max(options_.heartbeat_interval, std::chrono::milliseconds(500));
  }
  auto keep_alive = std::min(options_.mqtt.keep_alive, std::chrono::seconds(3600));
  return std::max(std::chrono::milliseconds(keep_alive) / 2, std::chrono::milliseconds(500));
}

void Agent::startHeartbeats() {
  stopHeartbeats();
  if (options_.mqtt.keep_alive.count() <= 0) return;  // no keep-alive: nothing to time
  uint64_t generation = 0;
  {
    std::lock_guard lock(heartbeat_->mu);
    heartbeat_->running = true;
    generation = ++heartbeat_->generation;
  }
  heartbeatTick(this, heartbeat_, generation);
}

void Agent::stopHeartbeats() {
  std::lock_guard lock(heartbeat_->mu);
  heartbeat_->running = false;
  ++heartbeat_->generation;
  if (heartbeat_->timer) executor_.cancel(heartbeat_->timer);
  heartbeat_->timer = 0;
}

void Agent::heartbeatTick(Agent* self, const std::shared_ptr<HeartbeatChain>& chain,
                          uint64_t generation) {
  std::lock_guard lock(chain->mu);
  // Checked before `self` is used: a stopped chain may outlive its agent.
  if (!chain->running || chain->generation != generation) return;
  self->publishHeartbeat();
  chain->timer = self->executor_.postDelayed(self->heartbeatInterval(), [self, chain, generation] {
    heartbeatTick(self, chain, generation);
  });
}

void Agent::publishHeartbeat() {
  if (!link_) return;
  NodeHeartbeat beat{session_, std::min<int64_t>(options_.mqtt.keep_alive.count(), 65535),
                     clock_.nowMs()};
  Status s =
      link_->publish(MqttMessage{topics::node(options_.node_id, topics::NodeTopic::kHeartbeat),
                                 dumpJson(encode(beat)), 0, false, "", ""});
  if (!s.isOk()) spdlog::debug("publish heartbeat: {}", s.message());
}

NodeState Agent::stateSnapshot() const { return last_state_; }

void Agent::scheduleState() {
  if (stopping_) return;
  if (state_timer_armed_) {
    if (!state_held_since_) return;
    // A change while a report waits for the reconciler (every pass ends with one): look
    // again after the settle time instead of at the end of the hold.
    strand_->cancel(state_timer_);
  }
  // Quiet since the last publish: report soon. Else wait out the rest of the debounce window.
  auto delay = std::min(options_.state_settle, options_.state_debounce);
  if (last_state_publish_) {
    auto since = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steadyNow() -
                                                                       *last_state_publish_);
    if (since < options_.state_debounce) delay = std::max(delay, options_.state_debounce - since);
  }
  armStateTimer(delay);
}

void Agent::armStateTimer(std::chrono::milliseconds delay) {
  std::weak_ptr<bool> alive = alive_;
  state_timer_armed_ = true;
  state_timer_ = strand_->postDelayed(delay, [this, alive] {
    auto a = alive.lock();
    if (!a || !*a) return;
    state_timer_armed_ = false;
    state_timer_ = 0;
    if (!holdState()) publishState(false);
  });
}

bool Agent::holdState() {
  auto now = clock_.steadyNow();
  if (!reconciler_->working()) {
    state_held_since_.reset();
    return false;
  }
  if (!state_held_since_) state_held_since_ = now;
  auto held = std::chrono::duration_cast<std::chrono::milliseconds>(now - *state_held_since_);
  if (held >= options_.state_hold) {
    state_held_since_.reset();
    return false;
  }
  // Until the hold runs out; the reconciler's next change notification comes sooner.
  armStateTimer(options_.state_hold - held);
  return true;
}

void Agent::publishState(bool force) {
  NodeState st;
  const auto& node_doc = docs_.node();
  const auto& secrets = docs_.secrets();
  if (node_doc) st.applied.push_back(DocRef{"node", node_doc->epoch, node_doc->generation});
  for (const auto& [group, doc] : docs_.groups()) {
    st.applied.push_back(DocRef{"group:" + group, doc.epoch, doc.generation});
  }
  if (secrets) st.applied.push_back(DocRef{"secrets", secrets->epoch, secrets->generation});
  st.apps = reconciler_->appStates();
  Json body = encode(st);
  // Extension fields (decoders ignore unknown fields): refused documents and the freeze.
  if (!docs_.badDocuments().empty()) {
    Json bad = Json::array();
    for (const auto& [source, error] : docs_.badDocuments()) {
      bad.push_back({{"source", source}, {"error", error}});
    }
    body["bad_documents"] = bad;
  }
  if (!node_doc) body["frozen"] = true;
  std::string compare = dumpJson(body);
  st.ts = clock_.nowMs();
  body["ts"] = st.ts;
  last_state_ = st;
  if (!force && compare == last_state_json_) return;
  if (!link_ || !connected_) return;  // published on (re)connect
  Status s = link_->publish(MqttMessage{topics::node(options_.node_id, topics::NodeTopic::kState),
                                        dumpJson(body), 1, true, "", ""});
  if (s.isOk()) last_state_json_ = compare;
  last_state_publish_ = clock_.steadyNow();
}

void Agent::emit(const std::string& kind, const std::string& app, const std::string& reason,
                 const std::string& message) {
  NodeEvent e;
  e.kind = kind;
  e.app = app;
  e.reason = reason;
  e.message = message;
  e.ts = clock_.nowMs();
  spdlog::info("event {} app={}: {} {}", kind, app, reason, message);
  publishEvent(std::move(e));
}

void Agent::publishEvent(NodeEvent event) {
  if (!link_ || !connected_) {
    if (buffered_events_.size() < options_.max_buffered_events) {
      buffered_events_.push_back(std::move(event));
    }
    return;
  }
  Status s = link_->publish(MqttMessage{topics::node(options_.node_id, topics::NodeTopic::kEvents),
                                        dumpJson(encode(event)), 1, false, "", ""});
  if (!s.isOk() && buffered_events_.size() < options_.max_buffered_events) {
    buffered_events_.push_back(std::move(event));
  }
}

// ---- metrics ------------------------------------------------------------------------------

void Agent::armMetricsTimer() {
  std::weak_ptr<bool> alive = alive_;
  auto period = jitter_.around(options_.metrics_interval, options_.timer_jitter);
  metrics_timer_ = strand_->postDelayed(period, [this, alive] {
    auto a = alive.lock();
    if (!a || !*a || stopping_) return;
    collectMetrics();
    armMetricsTimer();
  });
}

void Agent::collectMetrics() {
  if (metrics_running_ || !link_ || !connected_) return;
  metrics_running_ = true;
  auto observed = reconciler_->observedContainers();
  std::weak_ptr<bool> alive = alive_;
  auto strand = strand_;
  DockerClient* docker = &docker_;
  MqttLink* link = link_.get();
  bool host = options_.host_metrics;
  std::string disk = options_.reconciler.data_dir;
  std::string topic = topics::node(options_.node_id, topics::NodeTopic::kMetrics);
  auto host_sample = host_sample_;
  auto samples = container_samples_;
  int64_t ts = clock_.nowMs();
  executor_.post(
      [this, alive, strand, docker, link, host, disk, topic, host_sample, samples, observed, ts] {
        if (auto a = alive.lock(); !a || !*a) return;
        NodeMetrics m;
        if (host) {
          HostSample now = readHostSample();
          fillHostMetrics(m, *host_sample, now, disk);
          *host_sample = now;
        }
        std::map<std::string, ContainerStats> next;
        for (const auto& o : observed) {
          if (!o.info.running) continue;
          auto stats = docker->containerStats(o.info.id, true);
          if (!stats.isOk()) continue;
          ContainerMetrics cm;
          cm.app = o.app;
          cm.service = o.service;
          cm.container_id = o.info.id;
          cm.mem_bytes = static_cast<int64_t>(stats->memory_usage);
          cm.cpu_percent = stats->cpu_percent >= 0 ? stats->cpu_percent : 0;
          auto prev = samples->find(o.info.id);
          if (stats->cpu_percent < 0 && prev != samples->end() &&
              stats->system_cpu_ns > prev->second.system_cpu_ns &&
              stats->cpu_total_ns >= prev->second.cpu_total_ns) {
            double cpu = static_cast<double>(stats->cpu_total_ns - prev->second.cpu_total_ns);
            double sys = static_cast<double>(stats->system_cpu_ns - prev->second.system_cpu_ns);
            cm.cpu_percent = cpu / sys * (stats->online_cpus ? stats->online_cpus : 1) * 100.0;
          }
          next[o.info.id] = *stats;
          m.containers.push_back(std::move(cm));
        }
        *samples = std::move(next);
        m.ts = ts;
        (void)link->publish(MqttMessage{topic, dumpJson(encode(m)), 0, false, "", ""});
        strand->post([this, alive] {
          if (auto a = alive.lock(); a && *a) metrics_running_ = false;
        });
      });
}

// ---- commands -----------------------------------------------------------------------------

void Agent::reply(const std::string& topic, const std::string& correlation_data, const Json& body) {
  if (!link_) return;
  MqttMessage m{topic, dumpJson(body), 1, false, "", correlation_data};
  Status s = link_->publish(m);
  if (!s.isOk()) spdlog::warn("reply on {}: {}", topic, s.message());
}

void Agent::handleCommand(const std::string& command, const std::string& user,
                          const MqttMessage& message) {
  auto req = decodeApiRequest(message.payload);
  std::string reply_to = message.response_topic;
  if (reply_to.empty() && req.isOk()) reply_to = req->reply_to;
  // A retained request is an old one replayed by the broker on every (re)subscription: never
  // run it again.
  if (message.retained) {
    spdlog::warn("cmd/{}: retained request ignored (requests are never retained)", command);
    return;
  }
  // The requester is the topic's user level, which only that user may publish: without it
  // nobody is known to answer to.
  if (user.empty()) {
    spdlog::warn("cmd/{}: request without the user level ({}); dropped", command,
                 topics::nodeCmd(options_.node_id, command, "<user>"));
    return;
  }
  // Answers go only inside this node's own subtree, on the requester's own
  // nodes/{node}/cmd-replies/{user}/..., which only {user} may read. A reply topic under
  // another user's cmd-replies is refused, and the requester is told so on the same suffix
  // under its own; anything else has no topic of the requester's to answer on.
  if (Status where = checkCmdReplyTo(reply_to, options_.node_id, user); !where.isOk()) {
    auto named = topics::parse(reply_to);
    if (where.code() != Code::kPermissionDenied || !named) {
      spdlog::warn("cmd/{} by {}: no usable response topic ('{}'): {}; dropped", command, user,
                   reply_to.substr(0, 200), where.message());
      return;
    }
    spdlog::warn("cmd/{} by {}: {}", command, user, where.message());
    reply(topics::nodeCmdReplies(options_.node_id, user, named->name), message.correlation_data,
          errorResponse(where, req.isOk() ? req->correlation : Json()));
    return;
  }
  Json correlation = req.isOk() ? req->correlation : Json();
  std::string corr_data = message.correlation_data;
  if (!req.isOk()) {
    reply(reply_to, corr_data, errorResponse(req.status(), correlation));
    return;
  }
  auto observed = reconciler_->observedContainers();
  std::weak_ptr<bool> alive = alive_;
  DockerClient* docker = &docker_;
  auto send = [this, alive, reply_to, corr_data, strand = strand_](Json body) {
    strand->post([this, alive, reply_to, corr_data, body] {
      if (auto a = alive.lock(); a && *a) reply(reply_to, corr_data, body);
    });
  };

  if (command == "logs") {
    auto cmd = decodeLogsCommand(req->body);
    if (!cmd.isOk()) return reply(reply_to, corr_data, errorResponse(cmd.status(), correlation));
    if (!cmd->stream.empty()) {  // stop or renew a stream (log_streams.h)
      Status s = log_streams_->control(user, *cmd);
      return reply(
          reply_to, corr_data,
          s.isOk() ? okResponse(Json{{"stream", cmd->stream}, {"action", cmd->action}}, correlation)
                   : errorResponse(s, correlation));
    }
    std::string id;
    for (const auto& o : observed) {
      if (o.app == cmd->app && o.service == cmd->service) id = o.info.id;
    }
    if (id.empty()) {
      return reply(reply_to, corr_data,
                   errorResponse(Status::notFound("no container for " + cmd->app + "/" +
                                                  cmd->service + " on this node"),
                                 correlation));
    }
    if (cmd->follow) {
      log_streams_->start(user, reply_to, corr_data, correlation, id, *cmd);
      return;
    }
    LogOptions lo;
    lo.tail = cmd->since > 0 ? -1 : cmd->tail;
    lo.since = cmd->since / 1000;
    executor_.post([docker, id, lo, cmd = *cmd, correlation, send] {
      auto logs = docker->containerLogs(id, lo);
      if (!logs.isOk()) {
        send(errorResponse(logs.status(), correlation));
        return;
      }
      send(okResponse(
          {{"app", cmd.app}, {"service", cmd.service}, {"container_id", id}, {"logs", *logs}},
          correlation));
    });
    return;
  }
  if (command == "inspect") {
    auto cmd = decodeInspectCommand(req->body);
    if (!cmd.isOk()) return reply(reply_to, corr_data, errorResponse(cmd.status(), correlation));
    std::vector<std::pair<std::string, std::string>> targets;  // service, id
    for (const auto& o : observed) {
      if (o.app == cmd->app && (cmd->service.empty() || o.service == cmd->service)) {
        targets.emplace_back(o.service, o.info.id);
      }
    }
    if (targets.empty()) {
      return reply(
          reply_to, corr_data,
          errorResponse(Status::notFound("no container of app " + cmd->app + " on this node"),
                        correlation));
    }
    std::vector<std::string> secret_values;
    if (const auto& secrets = docs_.secrets()) {
      for (const auto& [k, v] : secrets->variables) {
        if (!v.empty()) secret_values.push_back(v);
      }
    }
    executor_.post([docker, targets, secret_values, cmd = *cmd, correlation, send] {
      Json containers = Json::array();
      for (const auto& [service, id] : targets) {
        auto info = docker->inspectContainer(id);
        if (!info.isOk()) continue;
        Json raw = info->raw;
        // Secrets never leave the device: redact environment values that hold one.
        if (raw.contains("Config") && raw["Config"].contains("Env") &&
            raw["Config"]["Env"].is_array()) {
          for (auto& e : raw["Config"]["Env"]) {
            if (!e.is_string()) continue;
            std::string s = e.get<std::string>();
            auto eq = s.find('=');
            if (eq == std::string::npos) continue;
            std::string value = s.substr(eq + 1);
            for (const std::string& secret : secret_values) {
              if (value.find(secret) != std::string::npos) {
                e = s.substr(0, eq + 1) + "<redacted>";
                break;
              }
            }
          }
        }
        containers.push_back({{"service", service}, {"container", raw}});
      }
      send(okResponse({{"app", cmd.app}, {"containers", containers}}, correlation));
    });
    return;
  }
  reply(reply_to, corr_data,
        errorResponse(Status::invalidArgument("unknown command '" + command + "'"), correlation));
}

}  // namespace pharos::agent
