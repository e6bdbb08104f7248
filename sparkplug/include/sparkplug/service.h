// pharos-sparkplug process wiring: the bdSeq counter kept across restarts, the session loop
// (one MQTT connection per Sparkplug session, its NDEATH as the will) and the command
// gateway. The calling thread runs the loop until `stop` is set.
#pragma once

#include <csignal>
#include <cstdint>
#include <string>

#include "pharos/status.h"
#include "sparkplug/options.h"

namespace pharos::sparkplug {

// The birth/death sequence number (Sparkplug 3.0: 0..255, one more for every new MQTT
// CONNECT). Kept in <dir>/bdseq so that a restarted process never reuses the number of the
// NDEATH the broker published for the process before it. An empty dir keeps it in memory.
class BdSeqCounter {
 public:
  explicit BdSeqCounter(std::string dir);
  // The number for the next connection (0 the very first time), written before it is used.
  Result<uint64_t> next();

 private:
  std::string path_;
  int64_t last_ = -1;
  bool loaded_ = false;
};

int runSparkplug(const SparkplugSettings& options, const volatile std::sig_atomic_t& stop);

}  // namespace pharos::sparkplug
