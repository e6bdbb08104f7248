// Device facts for nodes/{node}/info and host numbers for nodes/{node}/metrics, read from
// /proc, uname, statvfs and getifaddrs. CPU percent needs two samples: the caller keeps the
// previous HostSample. Functions are thread-safe (they only read the system).
#pragma once

#include <cstdint>
#include <string>

#include "pharos/messages.h"

namespace pharos::agent {

// Fills hostname, os, arch, kernel, cpus, memory, disk (of `disk_path`) and addresses.
void fillHostInfo(NodeInfo& info, const std::string& disk_path);

struct HostSample {
  uint64_t cpu_busy = 0;   // jiffies, all CPUs
  uint64_t cpu_total = 0;  // jiffies, all CPUs
  bool valid = false;
};
HostSample readHostSample();

// Host part of the metrics: CPU since `previous` (0 when previous is invalid), memory
// (MemTotal - MemAvailable), disk of `disk_path`, load averages.
void fillHostMetrics(NodeMetrics& metrics, const HostSample& previous, const HostSample& current,
                     const std::string& disk_path);

}  // namespace pharos::agent
