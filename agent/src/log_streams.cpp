// Live log streams by polling the engine's log endpoint (log_streams.h).
#include "agent/log_streams.h"

#include <algorithm>
#include <ctime>

#include "pharos/log.h"
#include "pharos/messages.h"

namespace pharos::agent {

int64_t parseLogTimestamp(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  auto digits = [&t](size_t at, size_t n, int* out) {
    if (at + n > t.size()) return false;
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      v = v * 10 + (t[i] - '0');
    }
    *out = v;
    return true;
  };
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (t.size() < 20 || !digits(0, 4, &year) || t[4] != '-' || !digits(5, 2, &month) ||
      t[7] != '-' || !digits(8, 2, &day) || t[10] != 'T' || !digits(11, 2, &hour) || t[13] != ':' ||
      !digits(14, 2, &minute) || t[16] != ':' || !digits(17, 2, &second)) {
    return -1;
  }
  int64_t ns = 0;
  size_t at = 19;
  if (t[at] == '.') {
    int64_t scale = 100'000'000;
    for (++at; at < t.size() && t[at] >= '0' && t[at] <= '9'; ++at) {
      ns += (t[at] - '0') * scale;
      scale /= 10;
    }
  }
  if (at >= t.size() || t[at] != 'Z' || month < 1 || month > 12 || day < 1 || day > 31) return -1;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) * 1'000'000'000 + ns;
}

LogStreams::LogStreams(DockerContainers& docker, Executor& blocking, std::shared_ptr<Strand> strand,
                       const Clock& clock, Send send, LogStreamLimits limits)
    : docker_(docker),
      blocking_(blocking),
      strand_(std::move(strand)),
      clock_(clock),
      send_(std::move(send)),
      limits_(limits) {}

LogStreams::~LogStreams() {
  *alive_ = false;
  for (auto& [id, s] : streams_) strand_->cancel(s.timer);
}

Json LogStreams::answer(Stream& s, Json lines, bool done, const std::string& reason,
                        const std::string& message) {
  Json result{{"stream", s.id},
              {"seq", s.seq++},
              {"app", s.cmd.app},
              {"service", s.cmd.service},
              {"container_id", s.container_id},
              {"lines", std::move(lines)},
              {"done", done}};
  if (done) result["end"] = reason;
  if (!message.empty()) result["message"] = message;
  return okResponse(result, s.correlation);
}

void LogStreams::start(const std::string& user, const std::string& reply_to,
                       const std::string& correlation_data, const Json& correlation,
                       const std::string& container_id, const LogsCommand& cmd) {
  if (streams_.size() >= limits_.max_streams) {
    send_(reply_to, correlation_data,
          errorResponse(
              Status::unavailable("this node already runs " + std::to_string(limits_.max_streams) +
                                  " log streams; stop one first"),
              correlation));
    return;
  }
  Stream s;
  s.id = "s" + std::to_string(++next_id_);
  s.user = user;
  s.reply_to = reply_to;
  s.correlation_data = correlation_data;
  s.correlation = correlation;
  s.container_id = container_id;
  s.cmd = cmd;
  auto now = clock_.steadyNow();
  s.deadline = now + std::chrono::seconds(cmd.max_seconds);
  s.lease_until = now + std::chrono::seconds(cmd.lease);
  std::string id = s.id;
  spdlog::info("log stream {} of {}/{} for {}: started (max {} lines, {} s, lease {} s)", id,
               cmd.app, cmd.service, user, cmd.max_lines, cmd.max_seconds, cmd.lease);
  streams_.emplace(id, std::move(s));
  poll(id);
}

Status LogStreams::control(const std::string& user, const LogsCommand& cmd) {
  auto it = streams_.find(cmd.stream);
  if (it == streams_.end() || it->second.user != user) {
    return Status::notFound("stream: no log stream '" + cmd.stream + "' of yours on this node");
  }
  if (cmd.action == "renew") {
    it->second.lease_until = clock_.steadyNow() + std::chrono::seconds(it->second.cmd.lease);
  } else {
    end(cmd.stream, "stopped");
  }
  return Status::ok();
}

void LogStreams::stopAll(const std::string& reason) {
  while (!streams_.empty()) end(streams_.begin()->first, reason);
}

void LogStreams::schedule(Stream& s) {
  std::weak_ptr<bool> alive = alive_;
  std::string id = s.id;
  s.timer = strand_->postDelayed(limits_.poll, [this, alive, id] {
    if (auto a = alive.lock(); a && *a) poll(id);
  });
}

void LogStreams::poll(const std::string& id) {
  auto it = streams_.find(id);
  if (it == streams_.end() || it->second.polling) return;
  Stream& s = it->second;
  auto now = clock_.steadyNow();
  if (now >= s.lease_until) return end(id, "lease_expired", "no renew from the caller");
  if (now >= s.deadline) return end(id, "max_seconds");
  LogOptions lo;
  lo.timestamps = true;
  lo.max_bytes = limits_.max_chunk_bytes;
  if (s.newest_ns == 0) {
    lo.tail = s.cmd.tail;
  } else {
    // The engine's `since` is whole seconds: the lines of the newest one come again and
    // are skipped by their timestamps below.
    lo.since = std::max<int64_t>(1, s.newest_ns / 1'000'000'000);
  }
  s.polling = true;
  std::weak_ptr<bool> alive = alive_;
  DockerContainers* docker = &docker_;
  std::string container = s.container_id;
  std::shared_ptr<Strand> strand = strand_;
  blocking_.post([this, alive, docker, container, lo, id, strand] {
    auto text = docker->containerLogs(container, lo);
    strand->post([this, alive, id, text = std::move(text)]() mutable {
      if (auto a = alive.lock(); a && *a) onLogs(id, std::move(text));
    });
  });
}

void LogStreams::onLogs(const std::string& id, Result<std::string> text) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Stream& s = it->second;
  s.polling = false;
  if (!text.isOk()) {
    bool gone = text.status().code() == Code::kNotFound;
    return end(id, gone ? "container_gone" : "error", text.status().message());
  }
  Json lines = Json::array();
  bool limit = false;
  size_t pos = 0;
  const std::string& all = *text;
  while (pos < all.size()) {
    size_t eol = all.find('\n', pos);
    std::string_view line(all.data() + pos, (eol == std::string::npos ? all.size() : eol) - pos);
    pos = eol == std::string::npos ? all.size() : eol + 1;
    size_t space = line.find(' ');
    int64_t ns = parseLogTimestamp(line.substr(0, space));
    if (ns < 0) continue;             // not a line the engine stamped (a cut tail)
    if (ns <= s.newest_ns) continue;  // `since` includes the newest line already sent
    if (s.lines_sent >= s.cmd.max_lines) {
      limit = true;
      break;
    }
    std::string_view body = space == std::string_view::npos ? "" : line.substr(space + 1);
    if (body.size() > limits_.max_line_bytes) body = body.substr(0, limits_.max_line_bytes);
    lines.push_back({{"ts", ns / 1'000'000}, {"text", std::string(body)}});
    s.newest_ns = ns;
    ++s.lines_sent;
  }
  if (s.lines_sent >= s.cmd.max_lines) limit = true;
  if (!lines.empty() || s.seq == 0) {
    send_(s.reply_to, s.correlation_data, answer(s, std::move(lines), false, "", ""));
  }
  if (limit) return end(id, "max_lines");
  schedule(s);
}

void LogStreams::end(const std::string& id, const std::string& reason, const std::string& message) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Stream& s = it->second;
  strand_->cancel(s.timer);
  spdlog::info("log stream {} of {}/{} for {}: ended ({}), {} lines", id, s.cmd.app, s.cmd.service,
               s.user, reason, s.lines_sent);
  send_(s.reply_to, s.correlation_data, answer(s, Json::array(), true, reason, message));
  streams_.erase(it);
}

}  // namespace pharos::agent
