// The session arithmetic and the state file's writer (see session.h).
#include "agent/session.h"

#include <spdlog/spdlog.h>

#include <limits>

namespace pharos::agent {

int64_t nextSession(int64_t last, int64_t now_ms) {
  if (last == std::numeric_limits<int64_t>::max()) return last;
  return last + 1 > now_ms ? last + 1 : now_ms;
}

Result<PersistedState> SessionStore::load() {
  auto loaded = file_.load();
  if (loaded.isOk()) {
    std::lock_guard lock(mu_);
    saved_ = *loaded;
    session_ = loaded->last_session;
  }
  return loaded;
}

Status SessionStore::saveDocuments(PersistedState documents) {
  std::lock_guard lock(mu_);
  documents.last_session = session_;
  Status s = file_.save(documents);
  if (s.isOk()) saved_ = std::move(documents);
  return s;
}

int64_t SessionStore::takeSession() {
  std::lock_guard lock(mu_);
  int64_t session = nextSession(session_, clock_.nowMs());
  PersistedState st = saved_;
  st.last_session = session;
  // Written before the connection is made: a restart never reuses this session.
  Status s = file_.save(st);
  if (s.isOk()) {
    saved_ = std::move(st);
  } else {
    spdlog::error("state file: session {} not written: {}", session, s.message());
  }
  session_ = session;
  return session;
}

}  // namespace pharos::agent
