// The session arithmetic (see session.h).
#include "agent/session.h"

#include <limits>

namespace pharos::agent {

int64_t nextSession(int64_t last, int64_t now_ms) {
  if (last == std::numeric_limits<int64_t>::max()) return last;
  return last + 1 > now_ms ? last + 1 : now_ms;
}

}  // namespace pharos::agent
