// The agent core (DESIGN.md sections 2 and 3): wires an MqttLink, a DockerClient, a Clock and
// a StateFile around the Reconciler. Its DesiredDocs holds the node, group and secrets
// documents (epoch / generation rule, bad documents refused); the agent hands their union
// (with conflicts) to the reconciler, publishes status (with the session rule and a NotReady
// will), info, state (debounced), events, metrics and heartbeats, answers cmd/logs and cmd/inspect
// on the request's response topic, and supervises the containers through the Docker events stream
// plus a periodic full reconcile.
//
// Threading (docs/agent.md "Threads"): the core runs on a Strand over the Executor it is
// given and owns no thread (the fleet simulator runs thousands of agents on a few threads).
// Link and Docker callbacks hop onto the strand. Each app's reconcile work runs on a strand
// of its own over the same executor, container stops on the stop executor (the base one when
// none is given), so no app waits for another. Blocking work (connect, pulls, logs, stats) is
// posted to the base executor. start() and stop() may be called from any thread that is not
// one of the executors'; stop() blocks until the final status is published.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/desired_docs.h"
#include "agent/docker_client.h"
#include "agent/host_facts.h"
#include "agent/log_streams.h"
#include "agent/reconciler.h"
#include "agent/state_file.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/jitter.h"
#include "pharos/messages.h"
#include "pharos/mqtt_link.h"
#include "pharos/sealed.h"

namespace pharos::agent {

struct AgentOptions {
  std::string node_id;
  std::map<std::string, std::string> labels;  // from the config
  // The device's key pair for sealed secrets (main loads it from key_file). Its public key
  // goes out in info; secrets documents sealed to it are opened in memory only. Empty: no
  // key, so no secrets document can be opened (each one is reported as a bad document).
  sealed::KeyPair keys;
  MqttOptions mqtt;  // url, credentials, TLS, keep-alive
  std::chrono::milliseconds reconcile_interval{30'000};
  std::chrono::milliseconds metrics_interval{15'000};
  // The periodic timers (full reconcile, metrics) fire every interval +/- this fraction,
  // drawn anew each time, so agents that start together (a site powering up, the fleet
  // simulator) drift apart instead of reconciling and reporting in the same second.
  double timer_jitter = 0.2;
  uint64_t seed = 0;  // that jitter's PRNG seed (0 = entropySeed(node_id))
  // State reports: the first change after a quiet period is published `state_settle` after
  // it (changes of the same reconcile step coalesce); later ones at most once per
  // `state_debounce` (a 10-service app does not publish 10 states).
  std::chrono::milliseconds state_debounce{200};
  std::chrono::milliseconds state_settle{20};
  // While the reconciler is at work on a change (a pass due, a pull queued or running) a
  // report waits for it, at most `state_hold`: a quick rollout is reported once (applied and
  // running together), a slow one (a long pull) still shows its progress within the hold.
  std::chrono::milliseconds state_hold{1000};
  // nodes/{node}/heartbeat period while connected; 0 = keep-alive / 2 (keep-alive capped at
  // 3600 s), never less than 500 ms. No heartbeat with a keep-alive of 0 (docs/agent.md).
  std::chrono::milliseconds heartbeat_interval{0};
  ReconcilerOptions reconciler;  // node_id is filled from node_id
  bool host_metrics = true;      // read /proc (false in the fleet simulator)
  size_t max_buffered_events = 256;
};

using LinkFactory = std::function<std::unique_ptr<MqttLink>(MqttOptions)>;

class Agent {
 public:
  // `stops` runs container stops, each for up to its stop timeout (null: `executor`).
  Agent(AgentOptions options, Executor& executor, DockerClient& docker, const Clock& clock,
        StateFile& state_file, LinkFactory make_link, Executor* stops = nullptr);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Loads the state file, applies it, connects (in the background) and starts supervising.
  void start();
  // Publishes NotReady ("agent stopped"), disconnects cleanly, stops timers and the events
  // stream. Blocks until done; `wait` false only posts it (ManualExecutor tests).
  void stop(bool wait = true);

  // For tests and the simulator: the session of the current (or last) connection, the state
  // last built.
  int64_t session() const { return session_; }
  NodeState stateSnapshot() const;
  MqttLink* link() { return link_.get(); }

 private:
  void onStart();
  void onStop();
  void onConnection(bool connected);
  void onMessage(const MqttMessage& message);
  void onEngineState(const Status& status);
  void onDockerEvent(const DockerEvent& event);

  // Decodes the sealed envelope and opens it with this device's key pair.
  Result<SecretsDoc> openSecretsDoc(const std::string& payload) const;
  // `user`: the requester, from the request topic's last level (nodes/{node}/cmd/{command}/
  // {user}, which the broker's ACL binds to the login); "" when the topic has no such level.
  void handleCommand(const std::string& command, const std::string& user,
                     const MqttMessage& message);
  void recompute();
  // True when every group the node document lists has answered (or its grace passed);
  // otherwise arms a timer that recomputes when the earliest grace ends.
  bool awaitedGroupsArrived();
  void updateGroupSubscriptions();
  void persist();
  // The will of a new connection (MqttOptions::will_for_connection): takes the connection's
  // session (session.h), persists it, and returns NotReady with it. Thread-safe (the link's
  // connect thread).
  std::optional<MqttMessage> willForConnection();

  void publishStatus(bool ready, const std::string& reason);
  void publishInfo();
  void scheduleState();
  void armStateTimer(std::chrono::milliseconds delay);
  bool holdState();
  void publishState(bool force);
  void publishEvent(NodeEvent event);
  void emit(const std::string& kind, const std::string& app, const std::string& reason,
            const std::string& message = "");
  void reply(const std::string& topic, const std::string& correlation_data, const Json& body);
  void armReconcileTimer();
  void armMetricsTimer();
  void collectMetrics();
  // Heartbeats (agent_report.cpp): one at once, then every heartbeatInterval() while
  // connected. The timer runs on the base executor, not the strand: a heartbeat says what
  // the MQTT keep-alive says (the process and its link are alive), whatever the core does.
  // start/stop on the strand (stop also from the destructor). One chain of executor timers per
  // connection; stopHeartbeats() ends it under the mutex, so a tick has either finished or sees
  // that it must not run.
  struct HeartbeatChain {
    std::mutex mu;
    bool running = false;
    uint64_t generation = 0;  // of the running chain: a tick of an older one stops
    uint64_t timer = 0;       // the pending executor timer
  };
  std::chrono::milliseconds heartbeatInterval() const;
  void startHeartbeats();
  void stopHeartbeats();
  void publishHeartbeat();  // thread-safe: link_, session_ and options_ are set before
  static void heartbeatTick(Agent* self, const std::shared_ptr<HeartbeatChain>& chain,
                            uint64_t generation);

  AgentOptions options_;
  Jitter jitter_;  // periodic timers (strand only)
  Executor& executor_;
  DockerClient& docker_;
  const Clock& clock_;
  StateFile& state_file_;
  LinkFactory make_link_;
  std::shared_ptr<Strand> strand_;
  std::shared_ptr<bool> alive_;
  std::unique_ptr<Reconciler> reconciler_;
  // The session of the current connection, taken by willForConnection() before each connect
  // (session.h); read by the strand and the heartbeat timer. Written under persist_mu_.
  std::atomic<int64_t> session_{0};
  // Serializes state-file writes of the strand (persist) and of the link's connect thread
  // (willForConnection); saved_ is what was last written. Declared before link_, whose
  // connect thread may still use them while it is destroyed.
  std::mutex persist_mu_;
  PersistedState saved_;
  std::unique_ptr<MqttLink> link_;
  std::unique_ptr<EventStream> events_stream_;
  std::unique_ptr<LogStreams> log_streams_;  // cmd/logs with follow (strand)

  // Documents (strand). Until an awaited group's document arrives (or kGroupDocGrace
  // passes) nothing is removed; awaiting_timer_ recomputes when the earliest grace ends.
  DesiredDocs docs_;
  std::set<std::string> subscribed_groups_;
  uint64_t awaiting_timer_ = 0;
  std::set<std::string> reported_conflicts_;

  // Link and engine (strand).
  bool connected_ = false;
  bool stopping_ = false;
  std::optional<bool> engine_up_;
  std::string engine_error_;
  DockerVersion docker_version_;
  std::vector<NodeEvent> buffered_events_;

  // Reporting (strand).
  bool state_timer_armed_ = false;
  // Set while a report waits for the reconciler (holdState): when that wait began.
  std::optional<std::chrono::steady_clock::time_point> state_held_since_;
  std::optional<std::chrono::steady_clock::time_point> last_state_publish_;
  std::string last_state_json_;
  NodeState last_state_;
  uint64_t reconcile_timer_ = 0;
  uint64_t metrics_timer_ = 0;
  uint64_t state_timer_ = 0;
  std::shared_ptr<HeartbeatChain> heartbeat_ = std::make_shared<HeartbeatChain>();
  bool metrics_running_ = false;
  std::shared_ptr<HostSample> host_sample_;
  std::shared_ptr<std::map<std::string, ContainerStats>> container_samples_;
};

}  // namespace pharos::agent
