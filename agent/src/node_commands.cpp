// cmd/logs and cmd/inspect (see node_commands.h). Strand only, except the engine calls.
#include "agent/node_commands.h"

#include <spdlog/spdlog.h>

#include "pharos/api.h"
#include "pharos/topics.h"

namespace pharos::agent {

NodeCommands::NodeCommands(std::string node_id, DockerContainers& docker, Executor& blocking,
                           std::shared_ptr<Strand> strand, const Clock& clock,
                           NodePublisher& publisher, Sources sources)
    : node_id_(std::move(node_id)),
      docker_(docker),
      blocking_(blocking),
      strand_(std::move(strand)),
      publisher_(publisher),
      sources_(std::move(sources)) {
  log_streams_ = std::make_unique<LogStreams>(
      docker_, blocking_, strand_, clock,
      [this](const std::string& topic, const std::string& corr, const Json& body) {
        publisher_.reply(topic, corr, body);
      });
}

NodeCommands::~NodeCommands() {
  *alive_ = false;
  log_streams_.reset();
}

void NodeCommands::stopAll(const std::string& reason) { log_streams_->stopAll(reason); }

void NodeCommands::handle(const std::string& command, const std::string& user,
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
                 topics::nodeCmd(node_id_, command, "<user>"));
    return;
  }
  // Answers go only inside this node's own subtree, on the requester's own
  // nodes/{node}/cmd-replies/{user}/..., which only {user} may read. A reply topic under
  // another user's cmd-replies is refused, and the requester is told so on the same suffix
  // under its own; anything else has no topic of the requester's to answer on.
  if (Status where = checkCmdReplyTo(reply_to, node_id_, user); !where.isOk()) {
    auto named = topics::parse(reply_to);
    if (where.code() != Code::kPermissionDenied || !named) {
      spdlog::warn("cmd/{} by {}: no usable response topic ('{}'): {}; dropped", command, user,
                   reply_to.substr(0, 200), where.message());
      return;
    }
    spdlog::warn("cmd/{} by {}: {}", command, user, where.message());
    publisher_.reply(topics::nodeCmdReplies(node_id_, user, named->name), message.correlation_data,
                     errorResponse(where, req.isOk() ? req->correlation : Json()));
    return;
  }
  Request r{user, reply_to, message.correlation_data, req.isOk() ? req->correlation : Json(),
            Json()};
  if (!req.isOk()) return answer(r, errorResponse(req.status(), r.correlation));
  r.body = req->body;
  std::weak_ptr<bool> alive = alive_;
  Send send = [this, alive, reply_to = r.reply_to, corr_data = r.corr_data,
               strand = strand_](Json body) {
    strand->post([this, alive, reply_to, corr_data, body] {
      if (auto a = alive.lock(); a && *a) publisher_.reply(reply_to, corr_data, body);
    });
  };
  if (command == "logs") return logs(r, send);
  if (command == "inspect") return inspect(r, send);
  answer(r, errorResponse(Status::invalidArgument("unknown command '" + command + "'"),
                          r.correlation));
}

void NodeCommands::logs(const Request& r, const Send& send) {
  auto cmd = decodeLogsCommand(r.body);
  if (!cmd.isOk()) return answer(r, errorResponse(cmd.status(), r.correlation));
  if (!cmd->stream.empty()) {  // stop or renew a stream (log_streams.h)
    Status s = log_streams_->control(r.user, *cmd);
    return answer(r, s.isOk() ? okResponse(Json{{"stream", cmd->stream}, {"action", cmd->action}},
                                           r.correlation)
                              : errorResponse(s, r.correlation));
  }
  std::string id;
  for (const auto& o : sources_.observed()) {
    if (o.app == cmd->app && o.service == cmd->service) id = o.info.id;
  }
  if (id.empty()) {
    return answer(r, errorResponse(Status::notFound("no container for " + cmd->app + "/" +
                                                    cmd->service + " on this node"),
                                   r.correlation));
  }
  if (cmd->follow) {
    log_streams_->start(r.user, r.reply_to, r.corr_data, r.correlation, id, *cmd);
    return;
  }
  LogOptions lo;
  lo.tail = cmd->since > 0 ? -1 : cmd->tail;
  lo.since = cmd->since / 1000;
  DockerContainers* docker = &docker_;
  blocking_.post([docker, id, lo, cmd = *cmd, correlation = r.correlation, send] {
    auto logs = docker->containerLogs(id, lo);
    if (!logs.isOk()) {
      send(errorResponse(logs.status(), correlation));
      return;
    }
    send(okResponse(
        {{"app", cmd.app}, {"service", cmd.service}, {"container_id", id}, {"logs", *logs}},
        correlation));
  });
}

void NodeCommands::inspect(const Request& r, const Send& send) {
  auto cmd = decodeInspectCommand(r.body);
  if (!cmd.isOk()) return answer(r, errorResponse(cmd.status(), r.correlation));
  std::vector<std::pair<std::string, std::string>> targets;  // service, id
  for (const auto& o : sources_.observed()) {
    if (o.app == cmd->app && (cmd->service.empty() || o.service == cmd->service)) {
      targets.emplace_back(o.service, o.info.id);
    }
  }
  if (targets.empty()) {
    return answer(
        r, errorResponse(Status::notFound("no container of app " + cmd->app + " on this node"),
                         r.correlation));
  }
  std::vector<std::string> secret_values = sources_.secret_values();
  DockerContainers* docker = &docker_;
  blocking_.post([docker, targets, secret_values, cmd = *cmd, correlation = r.correlation, send] {
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
}

}  // namespace pharos::agent
