// Host facts from /proc and libc (see host_facts.h).
#include "agent/host_facts.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace pharos::agent {
namespace {

int64_t meminfoBytes(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      std::istringstream ss(line.substr(key.size() + 1));
      int64_t kb = 0;
      ss >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

void diskUsage(const std::string& path, int64_t& total, int64_t& used) {
  struct statvfs st {};
  std::string p = path;
  // Walk up to an existing folder (the data dir may not exist yet).
  while (::statvfs(p.c_str(), &st) != 0) {
    auto slash = p.rfind('/');
    if (slash == std::string::npos || p == "/") return;
    p = slash == 0 ? "/" : p.substr(0, slash);
  }
  total = static_cast<int64_t>(st.f_blocks) * static_cast<int64_t>(st.f_frsize);
  used = total - static_cast<int64_t>(st.f_bfree) * static_cast<int64_t>(st.f_frsize);
}

std::string osName() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "linux";
}

}  // namespace

void fillHostInfo(NodeInfo& info, const std::string& disk_path) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) info.hostname = host;
  struct utsname u {};
  info.arch = buildArch();
  if (::uname(&u) == 0) {
    if (info.arch.empty()) info.arch = u.machine;
    info.kernel = u.release;
  }
  info.os = osName();
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  info.cpus = cpus > 0 ? static_cast<int>(cpus) : 0;
  info.memory_bytes = meminfoBytes("MemTotal");
  int64_t used = 0;
  diskUsage(disk_path, info.disk_bytes, used);
  struct ifaddrs* addrs = nullptr;
  if (::getifaddrs(&addrs) == 0) {
    for (auto* a = addrs; a; a = a->ifa_next) {
      if (!a->ifa_addr || (a->ifa_flags & IFF_LOOPBACK)) continue;
      char buf[INET6_ADDRSTRLEN] = {};
      if (a->ifa_addr->sa_family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
        ::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
      } else if (a->ifa_addr->sa_family == AF_INET6) {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr);
        ::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
      } else {
        continue;
      }
      info.addresses.push_back(buf);
    }
    ::freeifaddrs(addrs);
  }
}

std::string_view buildArch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__) && defined(__ARM_PCS_VFP)
  return "armhf";
#elif defined(__arm__)
  return "armel";
#elif defined(__i386__)
  return "i386";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64el";
#elif defined(__s390x__)
  return "s390x";
#else
  return "";
#endif
}

HostSample readHostSample() {
  HostSample s;
  std::ifstream in("/proc/stat");
  std::string cpu;
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal &&
      cpu == "cpu") {
    s.cpu_busy = user + nice + system + irq + softirq + steal;
    s.cpu_total = s.cpu_busy + idle + iowait;
    s.valid = true;
  }
  return s;
}

void fillHostMetrics(NodeMetrics& m, const HostSample& previous, const HostSample& current,
                     const std::string& disk_path) {
  if (previous.valid && current.valid && current.cpu_total > previous.cpu_total) {
    m.cpu_percent = 100.0 * static_cast<double>(current.cpu_busy - previous.cpu_busy) /
                    static_cast<double>(current.cpu_total - previous.cpu_total);
  }
  m.mem_total = meminfoBytes("MemTotal");
  m.mem_used = m.mem_total - meminfoBytes("MemAvailable");
  diskUsage(disk_path, m.disk_total, m.disk_used);
  std::ifstream in("/proc/loadavg");
  in >> m.load1 >> m.load5 >> m.load15;
}

}  // namespace pharos::agent
