// Agent core: lifecycle, link and engine callbacks, and what follows from the documents
// DesiredDocs holds (see agent.h).
// Publishing, metrics and commands are in agent_report.cpp. Strand only, except start(),
// stop() and the callbacks' hop onto the strand.
#include "agent/agent.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>

#include "agent/desired_set.h"
#include "agent/engine_spec.h"
#include "agent/session.h"
#include "pharos/topics.h"

namespace pharos::agent {

namespace {
// How long a newly listed group's document may take to arrive before the agent applies the
// rest without it (a group document normally arrives, retained, within milliseconds).
constexpr std::chrono::milliseconds kGroupDocGrace{10'000};
}  // namespace

Agent::Agent(AgentOptions options, Executor& executor, DockerClient& docker, const Clock& clock,
             StateFile& state_file, LinkFactory make_link, Executor* stops)
    : options_(std::move(options)),
      jitter_(options_.seed ? options_.seed : entropySeed(options_.node_id)),
      executor_(executor),
      docker_(docker),
      clock_(clock),
      state_file_(state_file),
      make_link_(std::move(make_link)),
      strand_(Strand::create(executor)),
      alive_(std::make_shared<bool>(true)),
      docs_(clock,
            DesiredDocs::Effects{
                [this](const std::string& kind, const std::string& app, const std::string& reason,
                       const std::string& message) { emit(kind, app, reason, message); },
                [this] { persist(); }, [this] { recompute(); }, [this] { scheduleState(); },
                [this] { updateGroupSubscriptions(); },
                [this](const std::vector<pharos::RegistryAuth>& registries) {
                  reconciler_->setRegistries(registries);
                },
                [this](const std::string& payload) { return openSecretsDoc(payload); }}),
      host_sample_(std::make_shared<HostSample>()),
      container_samples_(std::make_shared<std::map<std::string, ContainerStats>>()) {
  options_.reconciler.node_id = options_.node_id;
  reconciler_ = std::make_unique<Reconciler>(
      docker_, *strand_, executor_, clock_, options_.reconciler,
      [this](NodeEvent e) { publishEvent(std::move(e)); }, [this] { scheduleState(); }, stops);
  reconciler_->setFrozen(true);  // until a node document is held
  log_streams_ =
      std::make_unique<LogStreams>(docker_, executor_, strand_, clock_,
                                   [this](const std::string& topic, const std::string& corr,
                                          const Json& body) { reply(topic, corr, body); });
}

Agent::~Agent() {
  *alive_ = false;
  if (events_stream_) events_stream_->stop();
  events_stream_.reset();
  log_streams_.reset();
  if (reconciler_) reconciler_->shutdown();
  stopHeartbeats();  // waits for a heartbeat being sent: none touches `this` afterwards
  for (uint64_t id : {reconcile_timer_, metrics_timer_, state_timer_, awaiting_timer_}) {
    if (id) strand_->cancel(id);
  }
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
  auto loaded = state_file_.load();
  if (loaded.isOk()) {
    {
      std::lock_guard lock(persist_mu_);
      saved_ = *loaded;
      session_ = loaded->last_session;
    }
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
  auto version = docker_.version();
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
  events_stream_ = docker_.watchEvents(
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
  armMetricsTimer();
  scheduleState();
}

void Agent::onStop() {
  if (stopping_) return;
  stopping_ = true;
  log_streams_->stopAll("agent_stopping");
  if (link_ && connected_) {
    publishStatus(false, "agent stopped");
  }
  if (events_stream_) events_stream_->stop();
  reconciler_->shutdown();
  stopHeartbeats();
  for (uint64_t* id : {&reconcile_timer_, &metrics_timer_, &state_timer_, &awaiting_timer_}) {
    if (*id) strand_->cancel(*id);
    *id = 0;
  }
  if (link_) link_->disconnect();
  connected_ = false;
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
  if (!connected) {
    stopHeartbeats();
    spdlog::warn("broker connection lost");
    return;
  }
  spdlog::info("connected to {} (session {})", options_.mqtt.url, session_.load());
  updateGroupSubscriptions();  // retries a group subscription the broker refused earlier
  publishInfo();
  publishStatus(engine_up_.value_or(false),
                engine_up_.value_or(false) ? "" : "container engine unreachable: " + engine_error_);
  startHeartbeats();  // after the status: the anchor watches a session it knows
  publishState(true);
  std::vector<NodeEvent> pending;
  pending.swap(buffered_events_);
  for (NodeEvent& e : pending) publishEvent(std::move(e));
}

void Agent::onEngineState(const Status& status) {
  if (stopping_) return;
  bool up = status.isOk();
  if (engine_up_ && *engine_up_ == up) return;
  bool first = !engine_up_.has_value();
  engine_up_ = up;
  if (up) {
    engine_error_.clear();
    if (auto v = docker_.version(); v.isOk()) docker_version_ = *v;
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
      if (subscribed_groups_.count(parsed->group))
        docs_.offerGroup(parsed->group, message.payload, false);
      return;
    case topics::Kind::kNodeCmd:
      if (parsed->node == options_.node_id) handleCommand(parsed->name, parsed->user, message);
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
  std::set<std::string> want;
  if (const auto& node_doc = docs_.node()) {
    want.insert(node_doc->groups.begin(), node_doc->groups.end());
  }
  for (auto it = subscribed_groups_.begin(); it != subscribed_groups_.end();) {
    if (want.count(*it)) {
      ++it;
      continue;
    }
    (void)link_->unsubscribe(topics::groupDesired(*it));
    it = subscribed_groups_.erase(it);
  }
  for (const std::string& g : want) {
    if (subscribed_groups_.insert(g).second) {
      Status st = link_->subscribe(topics::groupDesired(g), 1);
      if (!st.isOk()) {
        // The anchor may grant the group's ACL just after publishing the node document:
        // retry with the periodic reconcile.
        spdlog::warn("subscribe to group {}: {} (will retry)", g, st.message());
        subscribed_groups_.erase(g);
      }
    }
  }
}

void Agent::recompute() {
  const auto& node_doc = docs_.node();
  const auto& secrets = docs_.secrets();
  bool secrets_blocked = !secrets && docs_.badDocuments().count("secrets") > 0;
  if (!node_doc || secrets_blocked) {
    reconciler_->setFrozen(true);
    scheduleState();
    return;
  }
  bool complete = awaitedGroupsArrived();
  EffectiveDesired eff = unionDesired(options_.node_id, *node_doc, docs_.groups());
  if (!complete) {
    // A tombstone may be the old place of an app whose new place has not arrived yet.
    std::erase_if(eff.apps, [](const EffectiveApp& e) {
      return e.spec.state == DesiredState::kRemoved && e.source != "node";
    });
  }
  std::set<std::string> conflicts_now;
  for (const Conflict& c : eff.conflicts) {
    std::string key = c.app + "|" + c.winner;
    for (const std::string& l : c.losers) key += "|" + l;
    conflicts_now.insert(key);
    if (reported_conflicts_.count(key)) continue;
    std::string losers;
    for (const std::string& l : c.losers) losers += (losers.empty() ? "" : ", ") + l;
    emit("conflict", c.app,
         "app named by " + c.winner + " and " + losers + "; " + c.winner + " wins");
  }
  reported_conflicts_ = std::move(conflicts_now);
  std::vector<DesiredApp> apps;
  const std::map<std::string, std::string> no_secrets;
  for (EffectiveApp& e : eff.apps) {
    DesiredApp d;
    d.variables = appVariables(options_.node_id, options_.labels, node_doc->labels, e.spec,
                               secrets ? secrets->variables : no_secrets);
    d.spec = std::move(e.spec);
    d.source = std::move(e.source);
    apps.push_back(std::move(d));
  }
  if (reconciler_->frozen()) reconciler_->setFrozen(false);
  reconciler_->setDesired(std::move(apps), complete);
  scheduleState();
}

bool Agent::awaitedGroupsArrived() {
  if (awaiting_timer_) strand_->cancel(awaiting_timer_);
  awaiting_timer_ = 0;
  auto now = clock_.steadyNow();
  auto next = now + kGroupDocGrace;
  auto& awaiting_groups = docs_.awaiting();
  for (auto it = awaiting_groups.begin(); it != awaiting_groups.end();) {
    if (now - it->second >= kGroupDocGrace) {
      spdlog::warn("no document for group {} after {} s: applying without it", it->first,
                   std::chrono::duration_cast<std::chrono::seconds>(kGroupDocGrace).count());
      it = awaiting_groups.erase(it);
    } else {
      next = std::min(next, it->second + kGroupDocGrace);
      ++it;
    }
  }
  if (awaiting_groups.empty()) return true;
  std::weak_ptr<bool> alive = alive_;
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(next - now);
  awaiting_timer_ = strand_->postDelayed(delay, [this, alive] {
    if (auto a = alive.lock(); !a || !*a || stopping_) return;
    awaiting_timer_ = 0;
    recompute();
  });
  return false;
}

void Agent::persist() {
  PersistedState st;
  docs_.persisted(st);
  Status s;
  {
    std::lock_guard lock(persist_mu_);
    st.last_session = session_;
    s = state_file_.save(st);
    if (s.isOk()) saved_ = st;
  }
  if (!s.isOk()) {
    spdlog::error("state file: {}", s.message());
    emit("state_file", "", "state file not written", s.message());
  }
}

std::optional<MqttMessage> Agent::willForConnection() {
  int64_t session = 0;
  {
    std::lock_guard lock(persist_mu_);
    session = nextSession(session_, clock_.nowMs());
    PersistedState st = saved_;
    st.last_session = session;
    // Written before the connection is made: a restart never reuses this session.
    Status s = state_file_.save(st);
    if (s.isOk()) {
      saved_ = std::move(st);
    } else {
      spdlog::error("state file: session {} not written: {}", session, s.message());
    }
    session_ = session;
  }
  NodeStatus will{Readiness::kNotReady, session, "connection lost", clock_.nowMs()};
  return MqttMessage{topics::node(options_.node_id, topics::NodeTopic::kStatus),
                     dumpJson(encode(will)),
                     1,
                     true,
                     "",
                     ""};
}

}  // namespace pharos::agent
