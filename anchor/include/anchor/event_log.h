// The anchor's event log: node events (nodes/{n}/events), health transitions, registrations
// and every accepted API change (the audit trail), stored under event/<ts>/<seq> with
// bounded retention (the oldest are deleted beyond max_events). Appends are buffered and
// written in one unsynced batch per flush (they are not acknowledged changes); events that
// must land with a change go into that change's batch through stage().
//
// Threading: used on the anchor's strand only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "anchor/store.h"
#include "pharos/json.h"

namespace pharos::anchor {

struct EventRecord {
  int64_t ts = 0;
  std::string source;  // "node" | "anchor" | "api"
  std::string node;
  std::string app;
  std::string kind;
  std::string service;
  std::string reason;
  std::string message;
  std::string user;  // API events
};

struct EventFilter {
  std::string node;
  std::string app;
  std::string kind;
  int64_t since = 0;  // Unix ms, inclusive; 0: no lower bound
  int64_t until = 0;  // Unix ms, inclusive; 0: no upper bound
  int limit = 100;
};

class EventLog {
 public:
  EventLog(Store& store, size_t max_events);

  // Counts the stored events (retention bookkeeping).
  Status load();
  // Buffers an event for the next flush.
  void append(EventRecord event);
  // Adds the event to `batch` (written with the change it records).
  void stage(EventRecord event, WriteBatch& batch);
  // Writes buffered events and trims the oldest beyond the limit.
  Status flush();
  size_t buffered() const { return buffer_.size(); }
  size_t count() const { return count_ + buffer_.size(); }

  // Matching events no later than `until` (when set): since > 0 returns the oldest from
  // `since` on; otherwise the newest `limit`. Either way in ascending time order.
  Result<std::vector<Json>> query(const EventFilter& filter);

  static Json toJson(const EventRecord& e);

 private:
  std::string nextKey(int64_t ts);

  Store& store_;
  size_t max_events_;
  size_t count_ = 0;
  int64_t seq_ = 0;
  std::vector<std::pair<std::string, std::string>> buffer_;
};

}  // namespace pharos::anchor
