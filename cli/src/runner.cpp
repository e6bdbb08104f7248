// pharosctl end to end (see runner.h): settings, session, request modes and output.
#include "cli/runner.h"

#include <fmt/format.h>

#include <ostream>
#include <set>

#include "cli/exit_codes.h"
#include "cli/follow_logs.h"
#include "cli/render.h"
#include "cli/rollout.h"
#include "cli/session.h"
#include "pharos/api.h"
#include "pharos/messages.h"
#include "pharos/topics.h"

namespace pharos::cli {
namespace {

constexpr int kMaxPages = 1000;
constexpr std::chrono::milliseconds kPoll{200};

int fail(const RunEnv& env, const Status& status, std::string_view source = {}) {
  *env.err << renderError(status, source);
  return toInt(exitCodeFor(status));
}

int usageError(const RunEnv& env, const std::string& message) {
  *env.err << "error: " << message << "\n";
  return toInt(ExitCode::kUsage);
}

Result<Settings> loadSettings(const Invocation& inv, const RunEnv& env) {
  ConfigPath cfg = configFilePath(inv.config_path, env.getenv);
  SettingsLayer file;
  if (!cfg.path.empty()) {
    auto text = env.read_file(cfg.path);
    if (text) {
      auto parsed = parseConfigFile(*text, cfg.path);
      if (!parsed) return parsed.status();
      file = *parsed;
    } else if (cfg.explicit_path) {
      return Status::invalidArgument(
          fmt::format("cannot read the config file {}: {}", cfg.path, text.status().message()));
    }
  }
  return resolveSettings(inv.connection, settingsFromEnv(env.getenv), file, env.read_file);
}

// Calls a list operation and follows result.next, merging the pages' arrays.
Result<Json> callAll(Session& session, const Invocation& inv) {
  auto first = session.call(inv.operation, inv.body);
  if (!first || !inv.paginate) return first;
  Json merged = *first;
  const char* key = nullptr;
  for (const char* k : {"nodes", "groups", "apps", "items"}) {
    if (merged.is_object() && merged.contains(k) && merged[k].is_array()) {
      key = k;
      break;
    }
  }
  if (key == nullptr) return merged;
  for (int page = 1; page < kMaxPages; ++page) {
    std::string next = field::str(merged, "next", "");
    if (next.empty()) break;
    Json body = inv.body;
    body["cursor"] = next;
    auto more = session.call(inv.operation, body);
    if (!more) return more.status();
    for (const auto& item : field::items(*more, {key})) merged[key].push_back(item);
    merged["next"] = more->contains("next") ? (*more)["next"] : Json();
  }
  merged.erase("next");
  return merged;
}

int waitForRollout(Session& session, const Invocation& inv, const Json& result, const RunEnv& env,
                   const Style& style) {
  std::string app = field::str(inv.body, "name", "");
  int64_t revision = field::num(result, "revision", 0);
  if (revision <= 0) {
    auto got = session.call(ops::kAppGet, encode(NameRequest{app}));
    if (!got) return fail(env, got.status());
    revision = field::num(*got, "revision", 0);
  }
  Status sub = session.subscribe(topics::appRollout(app));
  if (!sub.isOk()) return fail(env, sub);
  bool json = inv.output == OutputFormat::kJson;
  std::ostream& progress = json ? *env.err : *env.out;
  progress << fmt::format("waiting for app {} revision {} (timeout {})\n", app, revision,
                          formatDuration(inv.wait_timeout));
  RolloutTracker tracker(app, revision, style);
  std::optional<RolloutSummary> last;
  auto deadline = std::chrono::steady_clock::now() + inv.wait_timeout;
  bool timed_out = false;
  while (tracker.verdict() == RolloutVerdict::kInProgress) {
    if (env.interrupted()) {
      progress << "\ninterrupted\n";
      return toInt(ExitCode::kRolloutFailed);
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    auto msg = session.next(std::min(left, kPoll));
    if (!msg || msg->payload.empty()) continue;
    auto summary = decodeRolloutSummary(msg->payload);
    if (!summary) continue;
    last = *summary;
    progress << tracker.update(*summary, !json && env.stdout_is_tty);
    progress.flush();
  }
  progress << tracker.finish(timed_out, inv.wait_timeout);
  if (json && last) *env.out << encode(*last).dump(2) << "\n";
  return tracker.verdict() == RolloutVerdict::kDone ? 0 : toInt(ExitCode::kRolloutFailed);
}

int watchNodes(Session& session, const Invocation& inv, const RunEnv& env, Style style) {
  // The filtered list first (label/group filters need the anchor), then live changes.
  auto list = callAll(session, inv);
  if (!list) return fail(env, list.status());
  bool json = inv.output == OutputFormat::kJson;
  std::set<std::string> wanted;
  for (const auto& n : field::items(*list, {"nodes", "items"})) {
    wanted.insert(field::str(n, "name", ""));
  }
  bool filtered =
      !field::str(inv.body, "label", "").empty() || !field::str(inv.body, "group", "").empty();
  std::string health_filter = field::str(inv.body, "health", "");
  if (json) {
    *env.out << list->dump() << "\n";
  } else {
    *env.out << renderNodeList(*list, style) << "\nwatching health changes (Ctrl-C to stop)\n";
  }
  env.out->flush();
  Status sub = session.subscribe(topics::allNodes(topics::NodeTopic::kHealth));
  if (!sub.isOk()) return fail(env, sub);
  // What the list showed, as {state, since}: the retained copies that follow are no change.
  std::map<std::string, Json> seen;
  for (const auto& n : field::items(*list, {"nodes", "items"})) {
    const Json& h = n.contains("health") ? n["health"] : Json();
    int64_t since = h.is_object() ? field::num(h, "since") : field::num(n, "since");
    seen[field::str(n, "name", "")] = Json{{"state", field::state(h)}, {"since", since}};
  }
  while (!env.interrupted()) {
    auto msg = session.next(kPoll);
    if (!msg) continue;
    auto parsed = topics::parse(msg->topic);
    if (!parsed || parsed->kind != topics::Kind::kNode) continue;
    const std::string& node = parsed->node;
    if (filtered && wanted.count(node) == 0) continue;
    Json health;
    if (!msg->payload.empty()) {
      auto decoded = decodeNodeHealth(msg->payload);
      if (!decoded) continue;
      health = encode(*decoded);
      health.erase("v");
    }
    Json now{{"state", field::state(health)}, {"since", field::num(health, "since")}};
    auto it = seen.find(node);
    if (it != seen.end() && it->second == now) continue;
    seen[node] = now;
    if (!health_filter.empty() && field::state(health) != health_filter) continue;
    style.now_ms = env.now_ms();
    if (json) {
      *env.out << dumpJson(Json{{"node", node}, {"health", health}}) << "\n";
    } else {
      *env.out << renderHealthLine(node, health, style);
    }
    env.out->flush();
  }
  return 0;
}

int followEvents(Session& session, const Invocation& inv, const RunEnv& env, const Style& style) {
  auto result = session.call(inv.operation, inv.body);
  if (!result) return fail(env, result.status());
  bool json = inv.output == OutputFormat::kJson;
  for (const auto& e : field::items(*result, {"events", "items"})) {
    *env.out << (json ? dumpJson(e) + "\n" : renderEventLine("", e, style));
  }
  env.out->flush();
  std::string filter = inv.follow_node.empty()
                           ? topics::allNodes(topics::NodeTopic::kEvents)
                           : topics::node(inv.follow_node, topics::NodeTopic::kEvents);
  Status sub = session.subscribe(filter);
  if (!sub.isOk()) return fail(env, sub);
  while (!env.interrupted()) {
    auto msg = session.next(kPoll);
    if (!msg) continue;
    auto parsed = topics::parse(msg->topic);
    if (!parsed || parsed->kind != topics::Kind::kNode) continue;
    auto event = decodeNodeEvent(msg->payload);
    if (!event) continue;
    if (!inv.follow_app.empty() && event->app != inv.follow_app) continue;
    if (!inv.follow_kind.empty() && event->kind != inv.follow_kind) continue;
    Json e = encode(*event);
    e.erase("v");
    e["node"] = parsed->node;
    *env.out << (json ? dumpJson(e) + "\n" : renderEventLine(parsed->node, e, style));
    env.out->flush();
  }
  return 0;
}

int writeAgentConfig(const Invocation& inv, const Json& result, const RunEnv& env) {
  const Json& config = agentConfig(result);
  if (config.is_null()) {
    *env.err << "error: the anchor's answer holds no agent configuration to write\n";
    return toInt(ExitCode::kError);
  }
  std::string text = config.is_string() ? config.get<std::string>() : config.dump(2) + "\n";
  Status s = env.write_private_file(inv.agent_config_out, text);
  if (!s.isOk()) {
    *env.err << fmt::format("error: cannot write {}: {}\n", inv.agent_config_out, s.message());
    return toInt(ExitCode::kError);
  }
  *env.out << fmt::format("node {} enrolled; agent configuration written to {} (mode 0600)\n",
                          field::str(inv.body, "name"), inv.agent_config_out);
  return 0;
}

}  // namespace

int runPharosctl(const std::vector<std::string>& args, const RunEnv& env) {
  auto inv = parseCommandLine(args, ParseInputs{env.read_file, env.read_stdin, env.now_ms()});
  if (!inv) return usageError(env, inv.status().message());
  if (inv->mode == Mode::kExit) {
    *env.out << inv->text;
    return inv->exit_code;
  }
  auto settings = loadSettings(*inv, env);
  if (!settings) return usageError(env, settings.status().message());

  auto no_color = env.getenv("NO_COLOR");
  auto term = env.getenv("TERM");
  Style style;
  style.color =
      inv->color_allowed && wantColor(env.stdout_is_tty, no_color ? no_color->c_str() : nullptr,
                                      term ? term->c_str() : nullptr);
  style.now_ms = env.now_ms();

  auto options = sessionOptions(connectionOf(*settings), settings->request_timeout);
  Session session(env.make_link(options), settings->broker, settings->user,
                  settings->request_timeout, "pharosctl-" + randomHex(12));
  Status connected = session.connect();
  if (!connected.isOk()) return fail(env, connected);

  bool json = inv->output == OutputFormat::kJson;
  switch (inv->mode) {
    case Mode::kWatchNodes:
      return watchNodes(session, *inv, env, style);
    case Mode::kFollowEvents:
      return followEvents(session, *inv, env, style);
    case Mode::kFollowLogs:
      return followLogs(session, *inv, env);
    case Mode::kAgentCommand: {
      auto result = session.command(inv->node, inv->operation, inv->body);
      if (!result) return fail(env, result.status());
      if (json) {
        *env.out << result->dump(2) << "\n";
      } else {
        *env.out << inv->render(inv->body, *result, style);
      }
      return 0;
    }
    case Mode::kRequest:
    case Mode::kExit:
      break;
  }
  auto result = callAll(session, *inv);
  if (!result) return fail(env, result.status(), inv->source_name);
  if (!inv->agent_config_out.empty()) return writeAgentConfig(*inv, *result, env);
  if (json) {
    *env.out << result->dump(2) << "\n";
  } else {
    *env.out << inv->render(inv->body, *result, style);
  }
  env.out->flush();
  if (inv->wait) return waitForRollout(session, *inv, *result, env, style);
  return 0;
}

}  // namespace pharos::cli
