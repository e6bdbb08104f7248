// The agent core (DESIGN.md sections 2 and 3), the composition root of the agent: it wires an
// MqttLink, the Docker interfaces (DockerApi), a Clock and a StateFile around the parts that own
// the agent's state and routes the link's messages and the engine's events to them:
// - DesiredDocs holds the node, group and secrets documents (epoch / generation rule, bad
//   documents refused); GroupSubscriptions follows the groups the node document lists;
// - DesiredFeed turns the documents into the Reconciler's desired set (with conflicts);
// - the Reconciler makes the containers match it and supervises them (Docker events plus a
//   periodic full reconcile);
// - NodePublisher sends status (with the session rule and a NotReady will, SessionStore),
//   info, events; StateReporter the debounced state; Heartbeats and MetricsReporter their
//   periodic messages; NodeCommands answers cmd/logs and cmd/inspect.
//
// Threading (docs/agent.md "Threads"): the core runs on a Strand over the Executor it is
// given and owns no thread (the fleet simulator runs thousands of agents on a few threads).
// Link and Docker callbacks hop onto the strand. Each app's reconcile work runs on a strand
// of its own over the same executor, container stops on the stop executor (the base one when
// none is given), so no app waits for another. Blocking work (connect, pulls, logs, stats) is
// posted to the base executor. start() and stop() may be called from any thread that is not
// one of the executors'; stop() blocks until the final status is published.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "agent/desired_docs.h"
#include "agent/desired_feed.h"
#include "agent/docker_client.h"
#include "agent/group_subscriptions.h"
#include "agent/heartbeats.h"
#include "agent/metrics_reporter.h"
#include "agent/node_commands.h"
#include "agent/node_publisher.h"
#include "agent/reconciler.h"
#include "agent/session.h"
#include "agent/state_file.h"
#include "agent/state_reporter.h"
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
  Agent(AgentOptions options, Executor& executor, DockerApi docker, const Clock& clock,
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
  int64_t session() const { return session_store_.session(); }
  NodeState stateSnapshot() const { return state_.snapshot(); }
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
  void updateGroupSubscriptions();
  void persist();
  // The will of a new connection (MqttOptions::will_for_connection): takes the connection's
  // session (SessionStore), and returns NotReady with it. Thread-safe (the link's connect
  // thread).
  std::optional<MqttMessage> willForConnection();
  void publishStatus(bool ready, const std::string& reason);
  void publishInfo();
  void startHeartbeats();
  void armReconcileTimer();
  void emit(const std::string& kind, const std::string& app, const std::string& reason,
            const std::string& message = "");

  AgentOptions options_;
  Jitter jitter_;  // periodic timers (strand only)
  Executor& executor_;
  DockerApi docker_;
  const Clock& clock_;
  LinkFactory make_link_;
  std::shared_ptr<Strand> strand_;
  std::shared_ptr<bool> alive_;
  // The state file and the session. Declared before link_, whose connect thread may still
  // use it while it is destroyed.
  SessionStore session_store_;
  NodePublisher publisher_;
  std::unique_ptr<Reconciler> reconciler_;
  DesiredDocs docs_;
  DesiredFeed feed_;
  StateReporter state_;
  GroupSubscriptions groups_;
  std::unique_ptr<MqttLink> link_;
  // Declared after link_ and publisher_, which they send on: destroyed before them.
  Heartbeats heartbeats_;
  std::unique_ptr<MetricsReporter> metrics_;
  std::unique_ptr<NodeCommands> commands_;
  std::unique_ptr<EventStream> events_stream_;

  // Link and engine (strand).
  bool connected_ = false;
  bool stopping_ = false;
  std::optional<bool> engine_up_;
  std::string engine_error_;
  DockerVersion docker_version_;
  uint64_t reconcile_timer_ = 0;
};

}  // namespace pharos::agent
