// One pharosctl connection to the broker: connects (with user-facing messages for an
// unreachable broker or a refused login), sends API requests to
// pharos/v1/api/{user}/{operation} and agent commands to
// pharos/v1/nodes/{node}/cmd/{cmd}/{user}
// with the MQTT 5 Response Topic pharos/v1/replies/{user}/pharosctl-<random> (agents:
// pharos/v1/nodes/{node}/cmd-replies/{user}/pharosctl-<random>, inside the node's subtree)
// and random Correlation Data, and waits for the matching answer. An answer delivered with
// the retain flag is not an answer to this request (planted) and is dropped. Messages of
// other subscriptions (rollout, health, events) queue up for next().
//
// Threading: the link's callbacks run on its I/O thread and only push into a queue under
// mutex_; every other method is called from one thread (the command's).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "pharos/connection.h"
#include "pharos/json.h"
#include "pharos/mqtt_link.h"
#include "pharos/status.h"

namespace pharos::cli {

class Session {
 public:
  // `reply_suffix` is the last topic level of the reply topic ("pharosctl-1a2b3c4d").
  Session(std::unique_ptr<MqttLink> link, std::string broker_url, std::string user,
          std::chrono::milliseconds request_timeout, std::string reply_suffix);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Connects and subscribes to the reply topic. Errors: unavailable "cannot reach the
  // broker at URL: …", permission_denied "the broker at URL refused the login of user …".
  Status connect();
  void close();

  // One API request; the result on ok, else the anchor's error (code, message, position)
  // or unavailable "the anchor did not answer within 10 s (is pharos-anchor running?)".
  Result<Json> call(std::string_view operation, const Json& body);
  // One agent command (nodes/{node}/cmd/{command}/{user}); unavailable when the agent is silent.
  Result<Json> command(std::string_view node, std::string_view command, const Json& body);

  // An agent command whose answers keep coming (logs --follow): sends it and returns its
  // correlation data at once; nextAnswer reads the answers.
  Result<std::string> sendCommand(std::string_view node, std::string_view command,
                                  const Json& body);
  // The next answer carrying `correlation` (others are dropped), waiting at most `wait`:
  // nullopt when none came; an error answer as its Status.
  std::optional<Result<Json>> nextAnswer(const std::string& correlation,
                                         std::chrono::milliseconds wait);

  Status subscribe(const std::string& filter);
  // The next message of another subscription, waiting at most `wait`.
  std::optional<MqttMessage> next(std::chrono::milliseconds wait);

  const std::string& replyTopic() const { return reply_topic_; }

 private:
  // nodes/{node}/cmd-replies/{user}/{suffix}, subscribed on first use.
  Result<std::string> commandReplyTopic(std::string_view node);
  Result<Json> request(const std::string& topic, const Json& body, const std::string& who,
                       const std::string& reply_topic);

  std::unique_ptr<MqttLink> link_;
  std::string broker_url_;
  std::string user_;
  std::chrono::milliseconds request_timeout_;
  std::string reply_suffix_;
  std::string reply_topic_;
  bool connected_ = false;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::set<std::string> reply_topics_;  // guarded by mutex_: the anchor's and agents' topics
  std::deque<MqttMessage> replies_;     // guarded by mutex_
  std::deque<MqttMessage> stream_;      // guarded by mutex_
};

// 16 random hex digits (reply topic suffixes, correlation data).
std::string randomHex(size_t digits = 16);

// The MqttOptions pharosctl connects with: a random client id, no automatic reconnect,
// TLS as pharos::usesTls says (connection.h).
MqttOptions sessionOptions(const ConnectionSettings& connection,
                           std::chrono::milliseconds connect_timeout);

}  // namespace pharos::cli
