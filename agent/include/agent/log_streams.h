// Live log streams (cmd/logs with follow, docs/protocol.md "Log streams"): each stream polls
// its container's log through DockerContainers (timestamps on, `since` the second of the
// newest line sent; lines up to that one are skipped by their timestamps)
// and sends the new lines as one answer per poll to the caller's reply topic. A stream is
// bounded: it ends at max_lines lines, after max_seconds, when its caller stops it, when its
// lease runs out without a renew (the caller went away), when the container is gone, or when
// the agent stops; its last answer says which (`end`). At most max_streams run at once.
//
// Threading: every method runs on the strand it is given; Docker calls run on `blocking`
// and hop back. Destroy on the strand after stopAll(); polls in flight then find it gone.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "agent/docker_client.h"
#include "pharos/api.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/json.h"

namespace pharos::agent {

struct LogStreamLimits {
  size_t max_streams = 8;
  std::chrono::milliseconds poll{250};
  size_t max_chunk_bytes = 256 << 10;  // log bytes read per poll
  size_t max_line_bytes = 16 << 10;    // a longer line is cut
};

// "2026-12-07T15:29:09.123456789Z" (Docker's RFC 3339 with nanoseconds) -> Unix ns; -1 when
// the text is not such a timestamp.
int64_t parseLogTimestamp(std::string_view text);

class LogStreams {
 public:
  // Sends one answer body to (reply_to, correlation data).
  using Send = std::function<void(const std::string& reply_to, const std::string& correlation_data,
                                  const Json& body)>;

  LogStreams(DockerContainers& docker, Executor& blocking, std::shared_ptr<Strand> strand,
             const Clock& clock, Send send, LogStreamLimits limits = {});
  ~LogStreams();

  // Starts following `container_id` for `user` (cmd has follow set). Answers an error itself
  // when max_streams already run.
  void start(const std::string& user, const std::string& reply_to,
             const std::string& correlation_data, const Json& correlation,
             const std::string& container_id, const LogsCommand& cmd);
  // {stream, action} from `user`: not_found unless `user` runs that stream.
  Status control(const std::string& user, const LogsCommand& cmd);
  // Ends every stream with `reason` (the agent stops).
  void stopAll(const std::string& reason);
  size_t active() const { return streams_.size(); }

 private:
  struct Stream {
    std::string id;
    std::string user;
    std::string reply_to;
    std::string correlation_data;
    Json correlation;
    std::string container_id;
    LogsCommand cmd;
    int64_t newest_ns = 0;  // the newest line sent
    int64_t lines_sent = 0;
    int64_t seq = 0;
    std::chrono::steady_clock::time_point deadline;
    std::chrono::steady_clock::time_point lease_until;
    bool polling = false;
    uint64_t timer = 0;
  };

  void poll(const std::string& id);
  void onLogs(const std::string& id, Result<std::string> text);
  void end(const std::string& id, const std::string& reason, const std::string& message = "");
  void schedule(Stream& s);
  Json answer(Stream& s, Json lines, bool done, const std::string& reason,
              const std::string& message);

  DockerContainers& docker_;
  Executor& blocking_;
  std::shared_ptr<Strand> strand_;
  const Clock& clock_;
  Send send_;
  LogStreamLimits limits_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  uint64_t next_id_ = 0;
  std::map<std::string, Stream> streams_;
};

}  // namespace pharos::agent
