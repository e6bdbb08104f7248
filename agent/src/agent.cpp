// Agent core: lifecycle, link and engine callbacks, and the wiring of the parts that own the
// agent's state (see agent.h). Strand only, except start(), stop(), the callbacks' hop onto
// the strand and willForConnection().
#include "agent/agent.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>

#include "agent/engine_spec.h"
#include "agent/host_facts.h"
#include "pharos/topics.h"

namespace pharos::agent {

Agent::Agent(AgentOptions options, Executor& executor, DockerApi docker, const Clock& clock,
             StateFile& state_file, LinkFactory make_link, Executor* stops)
    : options_(std::move(options)),
      jitter_(options_.seed ? options_.seed : entropySeed(options_.node_id)),
      executor_(executor),
      docker_(docker),
      clock_(clock),
      make_link_(std::move(make_link)),
      strand_(Strand::create(executor)),
      alive_(std::make_shared<bool>(true)),
      session_store_(state_file, clock),
      publisher_(options_.node_id, clock, options_.max_buffered_events),
      docs_(clock,
            DesiredDocs::Effects{
                [this](const std::string& kind, const std::string& app, const std::string& reason,
                       const std::string& message) { emit(kind, app, reason, message); },
                [this] { persist(); }, [this] { feed_.recompute(); }, [this] { state_.schedule(); },
                [this] { updateGroupSubscriptions(); },
                [this](const std::vector<pharos::RegistryAuth>& registries) {
                  reconciler_->setRegistries(registries);
                },
                [this](const std::string& payload) { return openSecretsDoc(payload); }}),
      feed_(options_.node_id, options_.labels, docs_, strand_, clock,
            DesiredFeed::Effects{
                [this](const std::string& kind, const std::string& app, const std::string& reason,
                       const std::string& message) { emit(kind, app, reason, message); },
                [this] { reconciler_->setFrozen(true); },
                [this](std::vector<DesiredApp> apps, bool authoritative) {
                  if (reconciler_->frozen()) reconciler_->setFrozen(false);
                  reconciler_->setDesired(std::move(apps), authoritative);
                },
                [this] { state_.schedule(); }}),
      state_(strand_, clock,
             StateReporter::Timing{options_.state_settle, options_.state_debounce,
                                   options_.state_hold},
             docs_, publisher_,
             StateReporter::Reconciling{[this] { return reconciler_->working(); },
                                        [this] { return reconciler_->appStates(); }}),
      heartbeats_(executor, [this] {
        publisher_.heartbeat(session_store_.session(), options_.mqtt.keep_alive.count());
      }) {
  options_.reconciler.node_id = options_.node_id;
  reconciler_ = std::make_unique<Reconciler>(
      docker_, *strand_, executor_, clock_, options_.reconciler,
      [this](NodeEvent e) { publisher_.event(std::move(e)); }, [this] { state_.schedule(); },
      stops);
  reconciler_->setFrozen(true);  // until a node document is held
  auto observed = [this] { return reconciler_->observedContainers(); };
  metrics_ = std::make_unique<MetricsReporter>(
      docker_.containers, executor_, strand_, clock_, jitter_,
      MetricsReporter::Options{options_.metrics_interval, options_.timer_jitter,
                               options_.host_metrics, options_.reconciler.data_dir},
      publisher_, observed);
  commands_ = std::make_unique<NodeCommands>(
      options_.node_id, docker_.containers, executor_, strand_, clock_, publisher_,
      NodeCommands::Sources{observed, [this] {
                              std::vector<std::string> values;
                              if (const auto& secrets = docs_.secrets()) {
                                for (const auto& [k, v] : secrets->variables) {
                                  if (!v.empty()) values.push_back(v);
                                }
                              }
                              return values;
                            }});
}

Agent::~Agent() {
  *alive_ = false;
  if (events_stream_) events_stream_->stop();
  events_stream_.reset();
  commands_.reset();
  if (reconciler_) reconciler_->shutdown();
  heartbeats_.stop();  // waits for a heartbeat being sent: none touches `this` afterwards
  metrics_->stop();
  state_.stop();
  feed_.stop();
  if (reconcile_timer_) strand_->cancel(reconcile_timer_);
}

void Agent::start() {
  std::weak_ptr<bool> alive = alive_;
  strand_->post([this, alive] {
    if (auto a = alive.lock(); a && *a) onStart();
  });
}

void Agent::stop(bool wait) {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  std::weak_ptr<bool> alive = alive_;
  strand_->post([this, alive, done] {
    if (auto a = alive.lock(); a && *a) onStop();
    done->set_value();
  });
  if (wait) future.wait();
}

// ---- lifecycle ---------------------------------------------------------------------------

void Agent::onStart() {
  // 1. The state file: last documents and the session counter.
  auto loaded = session_store_.load();
  if (loaded.isOk()) {
    if (loaded->secrets) docs_.offerSecrets(*loaded->secrets, true);
    for (const auto& [group, payload] : loaded->group_desired) {
      docs_.offerGroup(group, payload, true);
    }
    if (loaded->node_desired) docs_.offerNode(*loaded->node_desired, true);
  } else if (loaded.status().code() != Code::kNotFound) {
    spdlog::error("state file: {}", loaded.status().message());
    emit("state_file", "", "state file unreadable; starting empty and recovering from the broker",
         loaded.status().message());
  }

  // 2. The engine.
  auto version = docker_.system.version();
  if (version.isOk()) {
    docker_version_ = *version;
    engine_up_ = true;
  } else {
    engine_up_ = false;
    engine_error_ = version.status().message();
    spdlog::warn("container engine unreachable: {}", engine_error_);
  }
  std::weak_ptr<bool> alive = alive_;
  auto strand = strand_;
  EventFilter filter;
  filter.types = {"container"};
  filter.labels = {std::string(kLabelNode) + "=" + options_.node_id};
  events_stream_ = docker_.system.watchEvents(
      filter,
      [this, alive, strand](const DockerEvent& e) {
        strand->post([this, alive, e] {
          if (auto a = alive.lock(); a && *a) onDockerEvent(e);
        });
      },
      [this, alive, strand](const Status& st) {
        strand->post([this, alive, st] {
          if (auto a = alive.lock(); a && *a) onEngineState(st);
        });
      });

  // 3. The link: each connection takes a new session, persisted, and has the will NotReady
  // with that session (a will of an older connection is then recognisably older).
  MqttOptions mqtt = options_.mqtt;
  if (mqtt.client_id.empty()) mqtt.client_id = options_.node_id;
  mqtt.will.reset();
  mqtt.will_for_connection = [this] { return willForConnection(); };
  link_ = make_link_(mqtt);
  publisher_.setLink(link_.get());
  link_->onMessage([this, alive, strand](const MqttMessage& m) {
    strand->post([this, alive, m] {
      if (auto a = alive.lock(); a && *a) onMessage(m);
    });
  });
  link_->onConnection([this, alive, strand](bool up) {
    strand->post([this, alive, up] {
      if (auto a = alive.lock(); a && *a) onConnection(up);
    });
  });
  // Secrets first: the broker delivers retained documents in subscription order, so a first
  // start opens the node's secrets before it applies the desired document that uses them.
  for (auto kind : {topics::NodeTopic::kSecrets, topics::NodeTopic::kDesired}) {
    (void)link_->subscribe(topics::node(options_.node_id, kind), 1);
  }
  (void)link_->subscribe(topics::nodeCmd(options_.node_id, "#"), 1);
  (void)link_->subscribe(topics::anchorStatus(), 1);
  updateGroupSubscriptions();
  MqttLink* link = link_.get();
  executor_.post([alive, link] {
    if (auto a = alive.lock(); !a || !*a) return;
    Status st = link->connect();
    if (!st.isOk()) spdlog::warn("broker: {} (retrying in the background)", st.message());
  });

  // 4. Supervision: periodic full reconcile, metrics.
  reconciler_->reconcileAll("agent start");
  armReconcileTimer();
  metrics_->start();
  state_.schedule();
}

void Agent::onStop() {
  if (stopping_) return;
  stopping_ = true;
  commands_->stopAll("agent_stopping");
  if (link_ && connected_) {
    publishStatus(false, "agent stopped");
  }
  if (events_stream_) events_stream_->stop();
  reconciler_->shutdown();
  heartbeats_.stop();
  metrics_->stop();
  state_.stop();
  feed_.stop();
  if (reconcile_timer_) strand_->cancel(reconcile_timer_);
  reconcile_timer_ = 0;
  if (link_) link_->disconnect();
  connected_ = false;
  publisher_.setConnected(false);
}

void Agent::armReconcileTimer() {
  std::weak_ptr<bool> alive = alive_;
  auto period = jitter_.around(options_.reconcile_interval, options_.timer_jitter);
  reconcile_timer_ = strand_->postDelayed(period, [this, alive] {
    auto a = alive.lock();
    if (!a || !*a || stopping_) return;
    updateGroupSubscriptions();
    reconciler_->reconcileAll("periodic");
    armReconcileTimer();
  });
}

// ---- link and engine ----------------------------------------------------------------------

void Agent::onConnection(bool connected) {
  if (stopping_) return;
  connected_ = connected;
  publisher_.setConnected(connected);
  if (!connected) {
    heartbeats_.stop();
    spdlog::warn("broker connection lost");
    return;
  }
  spdlog::info("connected to {} (session {})", options_.mqtt.url, session_store_.session());
  updateGroupSubscriptions();  // retries a group subscription the broker refused earlier
  publishInfo();
  publishStatus(engine_up_.value_or(false),
                engine_up_.value_or(false) ? "" : "container engine unreachable: " + engine_error_);
  startHeartbeats();  // after the status: the anchor watches a session it knows
  state_.publish(true);
  publisher_.flushEvents();
}

void Agent::onEngineState(const Status& status) {
  if (stopping_) return;
  bool up = status.isOk();
  if (engine_up_ && *engine_up_ == up) return;
  bool first = !engine_up_.has_value();
  engine_up_ = up;
  if (up) {
    engine_error_.clear();
    if (auto v = docker_.system.version(); v.isOk()) docker_version_ = *v;
    if (!first) emit("engine_reconnected", "", "container engine reachable again");
    if (connected_) {
      publishInfo();
      publishStatus(true, "");
    }
    reconciler_->engineBack();
    reconciler_->reconcileAll("engine reconnected");
  } else {
    engine_error_ = status.message();
    if (!first) reconciler_->engineLost();
    emit("engine_unreachable", "", "container engine unreachable", status.message());
    if (connected_) publishStatus(false, "container engine unreachable: " + engine_error_);
  }
}

void Agent::onDockerEvent(const DockerEvent& event) {
  if (stopping_) return;
  reconciler_->onContainerEvent(event);
}

void Agent::onMessage(const MqttMessage& message) {
  if (stopping_) return;
  auto parsed = topics::parse(message.topic);
  if (!parsed.isOk()) {
    spdlog::debug("ignoring message on {}", message.topic);
    return;
  }
  switch (parsed->kind) {
    case topics::Kind::kNode:
      if (parsed->node != options_.node_id) return;
      if (parsed->node_kind == topics::NodeTopic::kDesired) {
        docs_.offerNode(message.payload, false);
      } else if (parsed->node_kind == topics::NodeTopic::kSecrets) {
        docs_.offerSecrets(message.payload, false);
      }
      return;
    case topics::Kind::kGroupDesired:
      if (groups_.contains(parsed->group)) docs_.offerGroup(parsed->group, message.payload, false);
      return;
    case topics::Kind::kNodeCmd:
      if (parsed->node == options_.node_id) commands_->handle(parsed->name, parsed->user, message);
      return;
    case topics::Kind::kAnchorStatus:
      spdlog::info("anchor status: {}", message.payload);
      return;
    default:
      return;
  }
}

// ---- documents ----------------------------------------------------------------------------

Result<SecretsDoc> Agent::openSecretsDoc(const std::string& payload) const {
  auto envelope = decodeSealedSecrets(payload);
  if (!envelope) return envelope.status();
  if (options_.keys.public_key.empty()) {
    return Status::permissionDenied("this agent has no key pair to open sealed secrets");
  }
  return openSecrets(*envelope, options_.node_id, options_.keys.public_key,
                     options_.keys.secret_key);
}

void Agent::updateGroupSubscriptions() {
  if (!link_) return;
  const auto& node_doc = docs_.node();
  groups_.update(*link_, node_doc ? node_doc->groups : std::vector<std::string>{});
}

void Agent::persist() {
  PersistedState st;
  docs_.persisted(st);
  Status s = session_store_.saveDocuments(std::move(st));
  if (!s.isOk()) {
    spdlog::error("state file: {}", s.message());
    emit("state_file", "", "state file not written", s.message());
  }
}

std::optional<MqttMessage> Agent::willForConnection() {
  int64_t session = session_store_.takeSession();
  NodeStatus will{Readiness::kNotReady, session, "connection lost", clock_.nowMs()};
  return MqttMessage{topics::node(options_.node_id, topics::NodeTopic::kStatus),
                     dumpJson(encode(will)),
                     1,
                     true,
                     "",
                     ""};
}

// ---- reporting ----------------------------------------------------------------------------

void Agent::emit(const std::string& kind, const std::string& app, const std::string& reason,
                 const std::string& message) {
  publisher_.emit(kind, app, reason, message);
}

void Agent::publishStatus(bool ready, const std::string& reason) {
  publisher_.status(ready, session_store_.session(), reason);
}

void Agent::publishInfo() {
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
  publisher_.info(info);
}

void Agent::startHeartbeats() {
  heartbeats_.stop();
  if (options_.mqtt.keep_alive.count() <= 0) return;  // no keep-alive: nothing to time
  heartbeats_.start(heartbeatInterval(options_.heartbeat_interval, options_.mqtt.keep_alive));
}

}  // namespace pharos::agent
