// pharosctl logs --follow (follow_logs.h).
#include "cli/follow_logs.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <ostream>

#include "cli/exit_codes.h"
#include "cli/render.h"

namespace pharos::cli {
namespace {

constexpr std::chrono::milliseconds kPoll{200};
constexpr std::chrono::seconds kStopWait{3};

std::string isoTime(int64_t ms) {
  std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

// Prints one answer's lines; returns the stream's end reason once it is done, else "".
std::string print(const Json& result, const Invocation& inv, const RunEnv& env) {
  bool json = inv.output == OutputFormat::kJson;
  auto lines = result.find("lines");
  if (lines != result.end() && lines->is_array()) {
    for (const auto& l : *lines) {
      if (json) {
        *env.out << dumpJson(l) << "\n";
        continue;
      }
      std::string text = l.value("text", "");
      if (inv.follow_timestamps) *env.out << isoTime(l.value("ts", int64_t{0})) << " ";
      *env.out << text << "\n";
    }
  }
  env.out->flush();
  if (!result.value("done", false)) return "";
  return result.value("end", std::string("done"));
}

}  // namespace

int followLogs(Session& session, const Invocation& inv, const RunEnv& env) {
  auto correlation = session.sendCommand(inv.node, inv.operation, inv.body);
  if (!correlation) {
    *env.err << renderError(correlation.status(), {});
    return toInt(exitCodeFor(correlation.status()));
  }
  const int lease = inv.body.value("lease", 30);
  const auto renew_every = std::chrono::seconds(std::max(1, lease / 3));
  auto now = std::chrono::steady_clock::now;
  auto first_deadline = now() + std::chrono::seconds(10);
  auto next_renew = now() + renew_every;
  std::string stream;
  auto control = [&](const char* action) {
    LogsCommand c;
    c.stream = stream;
    c.action = action;
    return session.sendCommand(inv.node, inv.operation, encode(c)).status();
  };
  while (true) {
    if (env.interrupted()) {
      if (stream.empty()) return 0;
      // Ctrl-C: tell the agent, print what it still sends until its last answer.
      (void)control("stop");
      auto until = now() + kStopWait;
      std::string end;
      while (end.empty() && now() < until) {
        auto answer = session.nextAnswer(*correlation, kPoll);
        if (answer && answer->isOk()) end = print(**answer, inv, env);
      }
      *env.err << fmt::format("log stream ended: {}\n",
                              end.empty() ? "stopped (the agent did not confirm)" : end);
      return 0;
    }
    auto answer = session.nextAnswer(*correlation, kPoll);
    if (!answer) {
      if (stream.empty() && now() > first_deadline) {
        Status s = Status::unavailable(fmt::format(
            "node {} did not answer 'logs' within 10 s (is its agent connected?)", inv.node));
        *env.err << renderError(s, {});
        return toInt(exitCodeFor(s));
      }
      if (!stream.empty() && now() >= next_renew) {
        (void)control("renew");
        next_renew = now() + renew_every;
      }
      continue;
    }
    if (!answer->isOk()) {
      *env.err << renderError(answer->status(), {});
      return toInt(exitCodeFor(answer->status()));
    }
    if (stream.empty()) stream = (*answer)->value("stream", std::string());
    std::string end = print(**answer, inv, env);
    if (!end.empty()) {
      *env.err << fmt::format("log stream ended: {}\n", end);
      return end == "error" ? toInt(ExitCode::kError) : 0;
    }
  }
}

}  // namespace pharos::cli
