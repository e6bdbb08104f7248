// Anchor core wiring (anchor.h): the parts and the operation table, link callbacks hop onto
// the strand, messages are routed to their owners, (re)connection republishes every document.
#include "anchor/anchor.h"

#include "pharos/api.h"
#include "pharos/log.h"
#include "pharos/messages.h"
#include "pharos/topics.h"

namespace pharos::anchor {

using topics::NodeTopic;

Anchor::Anchor(AnchorOptions config, Store& store, MqttLink& link, BrokerAdmin& admin,
               std::shared_ptr<Strand> strand, Clock& clock)
    : config_(std::move(config)),
      store_(store),
      link_(link),
      admin_(admin),
      clock_(clock),
      strand_(std::move(strand)),
      events_(store, config_.max_events),
      publisher_(reg_, store, [this](const MqttMessage& m) { return link_.publish(m); }),
      guards_(config_, clock),
      rollouts_(config_, reg_, node_states_, publisher_, *strand_, clock),
      metrics_(store, metricsHistoryOptions(config_)),
      ops_{config_, reg_, store, events_, publisher_, rollouts_, admin, clock, &staged_, &metrics_},
      staged_(ops_, node_states_, *strand_, config_.staged_rollout_tick),
      lines_(
          config_, reg_, admin, guards_, events_, publisher_, *strand_, clock,
          LineMonitor::Hooks{[this](const std::string& node, bool restart_beat) {
                               if (restart_beat) health_.restartHeartbeat(node);
                               health_.applyHealth(node, nullptr);
                             },
                             [this] { health_.scheduleFlush(); },
                             [this](const std::string& line) { reconcileLineIdentities(line); }}),
      health_(config_, reg_, store, events_, publisher_, guards_, rollouts_, lines_, metrics_,
              *strand_, clock),
      monitor_(config_, reg_, store, events_, publisher_, guards_, rollouts_, node_states_, lines_,
               health_, metrics_, clock),
      nodes_(ops_, monitor_),
      groups_(ops_, monitor_),
      apps_(ops_),
      registries_(ops_),
      sweep_(ops_, node_states_, nodes_, *strand_),
      api_(config_, admin, clock, guards_,
           [this](const MqttMessage& m) { return link_.publish(m); }) {
  installOperations();
}

void Anchor::installOperations() {
  using User = const std::string&;
  // node.*: NodeOps.
  api_.addSync(ops::kNodeList, [this](User, const Json& body) { return nodes_.list(body); });
  api_.addSync(ops::kNodeGet, [this](User, const Json& body) { return nodes_.get(body); });
  api_.add(ops::kNodeAdd, [this](User user, const Json& body, Reply reply) {
    nodes_.add(user, body, std::move(reply));
  });
  api_.add(ops::kNodeRemove, [this](User user, const Json& body, Reply reply) {
    nodes_.remove(user, body, std::move(reply));
  });
  api_.addSync(ops::kNodeApprove,
               [this](User user, const Json& body) { return nodes_.approve(user, body); });
  api_.addSync(ops::kNodeLabel,
               [this](User user, const Json& body) { return nodes_.label(user, body); });
  api_.addSync(ops::kNodeRekey,
               [this](User user, const Json& body) { return nodes_.rekey(user, body); });
  // group.*: GroupOps.
  api_.addSync(ops::kGroupCreate,
               [this](User user, const Json& body) { return groups_.create(user, body); });
  api_.addSync(ops::kGroupDelete,
               [this](User user, const Json& body) { return groups_.deleteGroup(user, body); });
  api_.addSync(ops::kGroupList, [this](User, const Json& body) { return groups_.list(body); });
  api_.addSync(ops::kGroupGet, [this](User, const Json& body) { return groups_.get(body); });
  api_.addSync(ops::kGroupAdd,
               [this](User user, const Json& body) { return groups_.members(user, body, true); });
  api_.addSync(ops::kGroupRemove,
               [this](User user, const Json& body) { return groups_.members(user, body, false); });
  // app.*, events.query: AppOps.
  api_.addSync(ops::kAppDeploy,
               [this](User user, const Json& body) { return apps_.deploy(user, body); });
  api_.addSync(ops::kAppRemove,
               [this](User user, const Json& body) { return apps_.remove(user, body); });
  for (std::string_view op : {ops::kAppStart, ops::kAppStop, ops::kAppRestart}) {
    api_.addSync(op, [this, op = std::string(op)](User user, const Json& body) {
      return apps_.setState(user, op, body);
    });
  }
  api_.addSync(ops::kAppList, [this](User, const Json& body) { return apps_.list(body); });
  api_.addSync(ops::kAppGet, [this](User, const Json& body) { return apps_.get(body); });
  api_.addSync(ops::kAppHistory, [this](User, const Json& body) { return apps_.history(body); });
  api_.addSync(ops::kAppRollback,
               [this](User user, const Json& body) { return apps_.rollback(user, body); });
  // registry.*: RegistryOps.
  api_.addSync(ops::kRegistrySet,
               [this](User user, const Json& body) { return registries_.set(user, body); });
  api_.addSync(ops::kRegistryList,
               [this](User, const Json& body) { return registries_.list(body); });
  api_.addSync(ops::kRegistryRemove,
               [this](User user, const Json& body) { return registries_.remove(user, body); });
  api_.addSync(ops::kEventsQuery,
               [this](User, const Json& body) { return apps_.eventsQuery(body); });
  // rollout.*: staged rollouts (staged_rollouts.cpp).
  for (std::string_view op :
       {ops::kRolloutPause, ops::kRolloutResume, ops::kRolloutPromote, ops::kRolloutAbort}) {
    api_.addSync(
        op, [this, op](User user, const Json& body) { return staged_.command(user, op, body); });
  }
  // metrics.query: NodeOps over MetricsHistory.
  api_.addSync(ops::kMetricsQuery,
               [this](User, const Json& body) { return nodes_.metricsQuery(body); });
}

Anchor::~Anchor() { *alive_ = false; }

MqttMessage Anchor::willMessage(const Clock& clock) {
  MqttMessage will;
  will.topic = topics::anchorStatus();
  will.payload = dumpJson(encode(AnchorStatus{"offline", clock.nowMs()}));
  will.retained = true;
  will.qos = 1;
  return will;
}

Status Anchor::start() {
  if (config_.secrets_key.size() != sealed::kStoreKeyBytes) {
    return Status::invalidArgument("no secrets key (the anchor's at-rest key file) configured");
  }
  reg_.setSecretsKey(config_.secrets_key);
  PHAROS_RETURN_IF_ERROR(MetricsHistory::check(metrics_.options()));
  PHAROS_RETURN_IF_ERROR(reg_.load(store_));
  PHAROS_RETURN_IF_ERROR(events_.load());
  health_.healthChanged(guards_.healSessions(reg_));
  // Documents whose rendering changed since they were stored (an upgrade, a crash between
  // a record write and... nothing: records and generations share one batch) get numbered.
  std::vector<std::string> changed;
  PHAROS_RETURN_IF_ERROR(reg_.reconcileDocs(store_, &changed));
  if (!changed.empty()) spdlog::info("store: {} documents renumbered at start", changed.size());
  spdlog::info("store loaded: epoch {}, {} nodes, {} groups, {} apps, {} documents", reg_.epoch(),
               reg_.nodes().size(), reg_.groups().size(), reg_.apps().size(),
               reg_.docStates().size());
  std::weak_ptr<bool> alive = alive_;
  std::weak_ptr<Strand> strand = strand_;
  auto queued = queued_;
  auto inbox = inbox_;
  auto beat_drops = health_.beatDrops();
  size_t max_queued = config_.max_queued_messages;
  link_.onMessage(
      [this, alive, strand, queued, inbox, beat_drops, max_queued](const MqttMessage& message) {
        auto s = strand.lock();
        if (!s) return;
        auto parsed = topics::parse(message.topic);
        bool from_node = parsed && parsed->kind == topics::Kind::kNode;
        // Back-pressure: under a flood, drop what can be lost (metrics, events, heartbeats) first.
        // Dropped heartbeats are counted: their deadlines then wait (checkNodeHeartbeats).
        if (queued->load() > max_queued && from_node &&
            (parsed->node_kind == NodeTopic::kMetrics || parsed->node_kind == NodeTopic::kEvents ||
             parsed->node_kind == NodeTopic::kHeartbeat)) {
          if (parsed->node_kind == NodeTopic::kHeartbeat) ++*beat_drops;
          return;
        }
        ++*queued;
        // Node messages are batched behind the API (inbox.h), except heartbeats: their
        // deadlines are checked on the strand, so they must reach it in arrival order, not
        // behind a backlog of state reports (node_heartbeats.cpp).
        if (from_node && parsed->node_kind != NodeTopic::kHeartbeat) {
          if (inbox->push(NodeMessage{std::move(*parsed), message})) {
            s->post([this, alive] {
              if (!alive.expired()) drainInbox();
            });
          }
          return;
        }
        s->post([this, alive, queued, message, parsed = std::move(parsed)] {
          --*queued;
          if (alive.expired()) return;
          handleMessage(message, parsed);
        });
      });
  link_.onConnection([this, alive, strand](bool connected) {
    auto s = strand.lock();
    if (!s) return;
    s->post([this, alive, connected] {
      if (alive.expired()) return;
      if (connected) {
        onConnected();
      } else {
        publisher_.setConnected(false);
        spdlog::warn("broker connection lost; documents are republished on reconnect");
      }
    });
  });
  sweep_.start();
  staged_.schedule();  // a rollout the store holds goes on where it was
  return Status::ok();
}

void Anchor::stop() {
  health_.flush();
  if (!link_.connected()) return;
  MqttMessage msg;
  msg.topic = topics::anchorStatus();
  msg.payload = dumpJson(encode(AnchorStatus{"offline", clock_.nowMs()}));
  msg.retained = true;
  Status s = link_.publish(msg);
  if (!s.isOk()) spdlog::warn("publishing anchor/status offline: {}", s.message());
}

void Anchor::onConnected() {
  publisher_.setConnected(true);
  // Line heartbeats missed while the anchor itself was away say nothing about the lines.
  lines_.onAnchorConnected();
  // So are agents' heartbeats: every deadline gets a whole 1.5 x keep-alive from now.
  health_.onAnchorConnected();
  spdlog::info("connected to the broker; republishing every document");
  if (!subscribed_) {
    std::vector<std::string> filters = {
        topics::allNodes(NodeTopic::kStatus),  topics::allNodes(NodeTopic::kInfo),
        topics::allNodes(NodeTopic::kState),   topics::allNodes(NodeTopic::kEvents),
        topics::allNodes(NodeTopic::kMetrics), topics::allNodes(NodeTopic::kHeartbeat)};
    for (const auto& f : admin_.subscriptions()) filters.push_back(f);
    filters.push_back(kBridgeStateFilter);
    filters.push_back(topics::allLineHeartbeats());
    // Requests first, one by one (with Retain As Published, so a request left retained is
    // seen as such and cleared, guards.cpp; hardly any is retained, so the answers come at
    // once), and commands only to clear retained ones.
    bool all = true;
    for (const auto& f : {topics::allApiRequests(), topics::nodeCmd("+", "#")}) {
      Status s = link_.subscribe(f, 1);
      if (s.isOk()) continue;
      spdlog::error("subscribe {}: {}", f, s.message());
      all = false;
    }
    std::vector<std::pair<std::string, int>> subs;
    for (const auto& f : filters) {
      // Status, info and state are retained last values: one lost with a connection is sent
      // again by the re-subscription after the reconnect, so QoS 0 loses nothing and spares
      // the broker and the anchor an acknowledgement per message (30,000 at a restart).
      bool qos0 = f == topics::allNodes(NodeTopic::kMetrics) ||
                  f == topics::allNodes(NodeTopic::kHeartbeat) ||
                  f == topics::allLineHeartbeats() || f == topics::allNodes(NodeTopic::kStatus) ||
                  f == topics::allNodes(NodeTopic::kInfo) ||
                  f == topics::allNodes(NodeTopic::kState);
      subs.emplace_back(f, qos0 ? 0 : 1);
    }
    // One request: the strand does not wait while the broker sends the retained status, info
    // and state of every node (they queue in the inbox; requests are served meanwhile).
    std::vector<Status> results = link_.subscribeMany(subs);
    for (size_t i = 0; i < results.size(); ++i) {
      if (results[i].isOk()) continue;
      spdlog::error("subscribe {}: {}", subs[i].first, results[i].message());
      all = false;
    }
    subscribed_ = all;
  }
  reconcileIdentities();  // once per process, after the subscriptions (its answers)
  // Online only once requests can be received (clients wait for it before asking).
  publisher_.retained(topics::anchorStatus(),
                      dumpJson(encode(AnchorStatus{"online", clock_.nowMs()})));
  republishAll();
}

void Anchor::drainInbox() {
  std::vector<NodeMessage> batch;
  bool more = inbox_->takeBatch(std::max<size_t>(1, config_.inbox_batch), batch);
  for (const auto& item : batch) {
    --*queued_;
    handleNodeMessage(item.topic, item.message);
  }
  if (!more) return;
  std::weak_ptr<bool> alive = alive_;
  strand_->post([this, alive] {
    if (!alive.expired()) drainInbox();
  });
}

void Anchor::handleMessage(const MqttMessage& message, const Result<topics::Parsed>& parsed) {
  if (message.topic.rfind("$CONTROL/", 0) == 0 ||
      !topics::lineOfControlResponse(message.topic).empty()) {
    admin_.onMessage(message);  // dynamic-security answers, the site's and the lines'
    return;
  }
  if (message.topic.rfind("$SYS/", 0) == 0) {
    lines_.onBridgeState(message.topic, message.payload);
    return;
  }
  if (std::string line = topics::lineOfHeartbeat(message.topic); !line.empty()) {
    lines_.onLineHeartbeat(line);
    return;
  }
  if (!parsed) {
    // api/{user}/{bad operation}: answered invalid_argument when the request names a reply
    // topic of that user's (the operation name never reaches a topic or a log unbounded).
    if (std::string user = topics::apiUserOfMalformed(message.topic); !user.empty()) {
      if (guards_.dropRetainedRequest(message, publisher_)) return;
      api_.onRequest(message, user, std::string());
      return;
    }
    guards_.logMalformed("topic", message.topic, parsed.status());
    return;
  }
  if (parsed->kind == topics::Kind::kApi) {
    if (guards_.dropRetainedRequest(message, publisher_)) return;
    if (message.payload.empty() && message.response_topic.empty()) return;  // a clearing
    api_.onRequest(message, parsed->user, parsed->name);
    return;
  }
  if (parsed->kind == topics::Kind::kNodeCmd) {
    (void)guards_.dropRetainedRequest(message, publisher_);  // agents answer the live ones
    return;
  }
  if (parsed->kind == topics::Kind::kNode) handleNodeMessage(*parsed, message);
}

void Anchor::handleNodeMessage(const topics::Parsed& topic, const MqttMessage& message) {
  const std::string& node = topic.node;
  switch (topic.node_kind) {
    case NodeTopic::kStatus:
      monitor_.onStatus(node, message.payload);
      break;
    case NodeTopic::kInfo:
      monitor_.onInfo(node, message.payload);
      break;
    case NodeTopic::kState:
      monitor_.onState(node, message.payload);
      break;
    case NodeTopic::kEvents:
      monitor_.onEvent(node, message.payload);
      break;
    case NodeTopic::kMetrics:
      monitor_.onMetrics(node, message.payload);
      break;
    case NodeTopic::kHeartbeat:
      health_.onHeartbeat(node, message.payload);
      break;
    default:
      break;  // our own documents echoed back
  }
}

namespace {
// republishAll's list holds document keys, then "health\n<node>" for each node's verdict.
constexpr std::string_view kHealthItem = "health\n";
}  // namespace

void Anchor::republishAll() {
  auto keys = std::make_shared<std::vector<std::string>>(reg_.renderer().allDocKeys());
  uint64_t round = ++republish_round_;
  for (const auto& [name, node] : reg_.nodes()) {
    if (reg_.health().count(name)) keys->push_back(std::string(kHealthItem) + name);
  }
  rollouts_.markAll();
  republishChunk(std::move(keys), 0, round);
}

void Anchor::republishChunk(std::shared_ptr<std::vector<std::string>> keys, size_t from,
                            uint64_t round) {
  if (round != republish_round_ || !publisher_.connected()) return;  // a newer round took over
  size_t end = std::min(keys->size(), from + config_.republish_chunk);
  for (size_t i = from; i < end; ++i) {
    const std::string& key = (*keys)[i];
    if (key.rfind(kHealthItem, 0) == 0) {
      publisher_.health(key.substr(kHealthItem.size()));
    } else if (reg_.docStates().count(key)) {
      publisher_.doc(key);
    }
  }
  if (end < keys->size()) {
    // Let API requests and node messages interleave with a large republish.
    std::weak_ptr<bool> alive = alive_;
    strand_->post([this, alive, keys, end, round] {
      if (!alive.expired()) republishChunk(keys, end, round);
    });
  } else {
    spdlog::info("republished {} documents and health verdicts", keys->size());
  }
}

}  // namespace pharos::anchor
