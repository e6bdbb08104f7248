// Event log (event_log.h). Runs on the anchor's strand.
#include "anchor/event_log.h"

#include <algorithm>
#include <charconv>

#include "anchor/model.h"

namespace pharos::anchor {

EventLog::EventLog(Store& store, size_t max_events) : store_(store), max_events_(max_events) {}

Status EventLog::load() {
  count_ = 0;
  std::string last;
  PHAROS_RETURN_IF_ERROR(store_.scan(keys::kEventPrefix, [&](std::string_view k, std::string_view) {
    ++count_;
    last = std::string(k);
    return true;
  }));
  // Continue the sequence after the newest stored key (keys are ts/seq).
  if (!last.empty()) {
    auto slash = last.rfind('/');
    seq_ = std::strtoll(last.c_str() + slash + 1, nullptr, 10);
  }
  return Status::ok();
}

std::string EventLog::nextKey(int64_t ts) { return keys::event(ts, ++seq_ % 10'000'000'000); }

Json EventLog::toJson(const EventRecord& e) {
  Json out{{"ts", e.ts}, {"source", e.source}, {"kind", e.kind}};
  if (!e.node.empty()) out["node"] = e.node;
  if (!e.app.empty()) out["app"] = e.app;
  if (!e.service.empty()) out["service"] = e.service;
  if (!e.reason.empty()) out["reason"] = e.reason;
  if (!e.message.empty()) out["message"] = e.message;
  if (!e.user.empty()) out["user"] = e.user;
  return out;
}

void EventLog::append(EventRecord event) {
  std::string key = nextKey(event.ts);
  buffer_.emplace_back(std::move(key), dumpJson(toJson(event)));
}

void EventLog::stage(EventRecord event, WriteBatch& batch) {
  batch.put(nextKey(event.ts), dumpJson(toJson(event)));
  ++count_;
}

Status EventLog::flush() {
  WriteBatch batch;
  for (auto& [k, v] : buffer_) batch.put(std::move(k), std::move(v));
  size_t added = buffer_.size();
  size_t total = count_ + added;
  size_t trimmed = 0;
  if (total > max_events_) {
    size_t excess = total - max_events_;
    PHAROS_RETURN_IF_ERROR(
        store_.scan(keys::kEventPrefix, [&](std::string_view k, std::string_view) {
          if (trimmed >= excess) return false;
          batch.del(std::string(k));
          ++trimmed;
          return true;
        }));
  }
  if (batch.empty()) return Status::ok();
  buffer_.clear();
  Status status = store_.write(batch, false);
  if (!status.isOk()) return status;  // the buffered events are lost; the log says so
  count_ = total - trimmed;
  return Status::ok();
}

Result<std::vector<Json>> EventLog::query(const EventFilter& filter) {
  PHAROS_RETURN_IF_ERROR(flush());
  std::vector<Json> out;
  // Keys sort by time: the first key after `until` ends a forward scan and starts a
  // backward one.
  const std::string end = filter.until > 0 ? keys::event(filter.until + 1, 0) : std::string();
  auto visit = [&](std::string_view key, std::string_view value) {
    if (!end.empty() && key >= end) return false;
    auto json = parseJson(value, size_t{1} << 22);
    if (!json || !json->is_object()) return true;
    const Json& e = *json;
    auto field = [&](const char* key) {
      return e.contains(key) && e[key].is_string() ? e[key].get<std::string>() : std::string();
    };
    if (!filter.node.empty() && field("node") != filter.node) return true;
    if (!filter.app.empty() && field("app") != filter.app) return true;
    if (!filter.kind.empty() && field("kind") != filter.kind) return true;
    // The key's sequence number tells apart entries alike within one millisecond.
    int64_t seq = 0;
    auto slash = key.rfind('/');
    if (slash != std::string_view::npos) {
      std::from_chars(key.data() + slash + 1, key.data() + key.size(), seq);
    }
    (*json)["seq"] = seq;
    out.push_back(std::move(*json));
    return static_cast<int>(out.size()) < filter.limit;
  };
  if (filter.since > 0) {
    PHAROS_RETURN_IF_ERROR(store_.scan(keys::kEventPrefix, keys::event(filter.since, 0), visit));
  } else {
    PHAROS_RETURN_IF_ERROR(store_.scanReverse(keys::kEventPrefix, end, visit));
    std::reverse(out.begin(), out.end());
  }
  return out;
}

}  // namespace pharos::anchor
