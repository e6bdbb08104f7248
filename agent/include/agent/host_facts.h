// Device facts for nodes/{node}/info and host numbers for nodes/{node}/metrics, read from
// /proc, uname, statvfs and getifaddrs. CPU percent needs two samples: the caller keeps the
// previous HostSample. Functions are thread-safe (they only read the system).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pharos/messages.h"

namespace pharos::agent {

// Fills hostname, os, arch (buildArch()), kernel, cpus, memory, disk (of `disk_path`) and
// addresses.
void fillHostInfo(NodeInfo& info, const std::string& disk_path);

// The Debian name of the architecture this agent was compiled for (amd64, arm64, armhf, ...),
// the name its packages and images go by. A compile-time fact rather than uname's machine:
// an agent run under an emulator (qemu-user) reports what it is built for, and the same CPU
// family has one name (not aarch64 here and arm64 there). Empty for an architecture not
// listed; fillHostInfo then falls back to uname's machine.
std::string_view buildArch();

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
