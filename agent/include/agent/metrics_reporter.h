// The agent's periodic metrics (DESIGN.md section 2, nodes/{node}/metrics, QoS 0): every
// interval (+/- the jitter fraction, drawn anew each time) one sample of the host (CPU,
// memory, disk, load; read from /proc unless `host` is off, as in the fleet simulator) and of
// each running managed container (the engine's stats; a CPU percentage the engine leaves out
// is computed from the previous sample). Only while online; one collection at a time.
//
// Threading: start(), stop() and collect() on the agent's strand, which the timer runs on;
// the collection itself runs on the blocking executor and publishes from there.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/docker_client.h"
#include "agent/host_facts.h"
#include "agent/node_publisher.h"
#include "agent/reconciler.h"
#include "pharos/clock.h"
#include "pharos/executor.h"
#include "pharos/jitter.h"

namespace pharos::agent {

class MetricsReporter {
 public:
  struct Options {
    std::chrono::milliseconds interval{15'000};
    double jitter = 0.2;
    bool host = true;       // sample the host (/proc)
    std::string disk_path;  // whose file system the disk figures describe
  };
  using Observed = std::function<std::vector<Reconciler::Observed>()>;

  MetricsReporter(DockerContainers& docker, Executor& blocking, std::shared_ptr<Strand> strand,
                  const Clock& clock, Jitter& jitter, Options options, NodePublisher& publisher,
                  Observed observed);
  ~MetricsReporter();
  MetricsReporter(const MetricsReporter&) = delete;
  MetricsReporter& operator=(const MetricsReporter&) = delete;

  // Arms the periodic timer; stop() cancels it.
  void start();
  void stop();
  // One sample now, unless offline or one is being collected.
  void collect();

 private:
  DockerContainers& docker_;
  Executor& blocking_;
  std::shared_ptr<Strand> strand_;
  const Clock& clock_;
  Jitter& jitter_;
  const Options options_;
  NodePublisher& publisher_;
  Observed observed_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool stopped_ = false;
  uint64_t timer_ = 0;
  bool running_ = false;
  // The previous samples (read and written by the collection in flight only).
  std::shared_ptr<HostSample> host_sample_ = std::make_shared<HostSample>();
  std::shared_ptr<std::map<std::string, ContainerStats>> container_samples_ =
      std::make_shared<std::map<std::string, ContainerStats>>();
};

}  // namespace pharos::agent
