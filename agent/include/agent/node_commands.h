// The commands an agent answers itself (DESIGN.md section 2, nodes/{node}/cmd/{command}):
// `logs` (a service's last lines, or a live stream with `follow`, log_streams.h) and `inspect`
// (the engine's inspect documents of an app's containers, secret values redacted). A request
// is answered only inside this node's own subtree, on the requester's own
// nodes/{node}/cmd-replies/{user}/... (docs/security.md); a retained request, one without the
// user level, or one with no usable response topic is dropped.
//
// Threading: handle() and stopAll() on the agent's strand; engine calls run on `blocking` and
// their answers hop back onto the strand. Destroy on the strand; answers in flight then find
// it gone.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/docker_client.h"
#include "agent/log_streams.h"
#include "agent/node_publisher.h"
#include "agent/reconciler.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/mqtt_link.h"

namespace pharos::agent {

class NodeCommands {
 public:
  // What the commands read from the rest of the agent.
  struct Sources {
    std::function<std::vector<Reconciler::Observed>()> observed;  // the managed containers
    std::function<std::vector<std::string>()> secret_values;      // to redact from inspect
  };

  NodeCommands(std::string node_id, DockerContainers& docker, Executor& blocking,
               std::shared_ptr<Strand> strand, const Clock& clock, NodePublisher& publisher,
               Sources sources);
  ~NodeCommands();
  NodeCommands(const NodeCommands&) = delete;
  NodeCommands& operator=(const NodeCommands&) = delete;

  // `user`: the requester, from the request topic's last level (nodes/{node}/cmd/{command}/
  // {user}, which the broker's ACL binds to the login); "" when the topic has no such level.
  void handle(const std::string& command, const std::string& user, const MqttMessage& message);
  // Ends every log stream with `reason` (the agent stops).
  void stopAll(const std::string& reason);

 private:
  // Sends `body` to the request's answer topic from any thread (hops onto the strand).
  using Send = std::function<void(Json)>;
  struct Request {
    std::string user;
    std::string reply_to;
    std::string corr_data;
    Json correlation;
    Json body;
  };
  void logs(const Request& r, const Send& send);
  void inspect(const Request& r, const Send& send);
  void answer(const Request& r, const Json& body) {
    publisher_.reply(r.reply_to, r.corr_data, body);
  }

  const std::string node_id_;
  DockerContainers& docker_;
  Executor& blocking_;
  std::shared_ptr<Strand> strand_;
  NodePublisher& publisher_;
  Sources sources_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<LogStreams> log_streams_;
};

}  // namespace pharos::agent
