// The periodic metrics (see metrics_reporter.h).
#include "agent/metrics_reporter.h"

namespace pharos::agent {

MetricsReporter::MetricsReporter(DockerContainers& docker, Executor& blocking,
                                 std::shared_ptr<Strand> strand, const Clock& clock, Jitter& jitter,
                                 Options options, NodePublisher& publisher, Observed observed)
    : docker_(docker),
      blocking_(blocking),
      strand_(std::move(strand)),
      clock_(clock),
      jitter_(jitter),
      options_(std::move(options)),
      publisher_(publisher),
      observed_(std::move(observed)) {}

MetricsReporter::~MetricsReporter() {
  *alive_ = false;
  stop();
}

void MetricsReporter::stop() {
  stopped_ = true;
  if (timer_) strand_->cancel(timer_);
  timer_ = 0;
}

void MetricsReporter::start() {
  stopped_ = false;
  std::weak_ptr<bool> alive = alive_;
  auto period = jitter_.around(options_.interval, options_.jitter);
  timer_ = strand_->postDelayed(period, [this, alive] {
    auto a = alive.lock();
    if (!a || !*a || stopped_) return;
    collect();
    start();
  });
}

void MetricsReporter::collect() {
  if (running_ || !publisher_.online()) return;
  running_ = true;
  auto observed = observed_();
  std::weak_ptr<bool> alive = alive_;
  auto strand = strand_;
  DockerContainers* docker = &docker_;
  NodePublisher* publisher = &publisher_;
  bool host = options_.host;
  std::string disk = options_.disk_path;
  auto host_sample = host_sample_;
  auto samples = container_samples_;
  int64_t ts = clock_.nowMs();
  blocking_.post(
      [this, alive, strand, docker, publisher, host, disk, host_sample, samples, observed, ts] {
        if (auto a = alive.lock(); !a || !*a) return;
        NodeMetrics m;
        if (host) {
          HostSample now = readHostSample();
          fillHostMetrics(m, *host_sample, now, disk);
          *host_sample = now;
        }
        std::map<std::string, ContainerStats> next;
        for (const auto& o : observed) {
          if (!o.info.running) continue;
          auto stats = docker->containerStats(o.info.id, true);
          if (!stats.isOk()) continue;
          ContainerMetrics cm;
          cm.app = o.app;
          cm.service = o.service;
          cm.container_id = o.info.id;
          cm.mem_bytes = static_cast<int64_t>(stats->memory_usage);
          cm.cpu_percent = stats->cpu_percent >= 0 ? stats->cpu_percent : 0;
          auto prev = samples->find(o.info.id);
          if (stats->cpu_percent < 0 && prev != samples->end() &&
              stats->system_cpu_ns > prev->second.system_cpu_ns &&
              stats->cpu_total_ns >= prev->second.cpu_total_ns) {
            double cpu = static_cast<double>(stats->cpu_total_ns - prev->second.cpu_total_ns);
            double sys = static_cast<double>(stats->system_cpu_ns - prev->second.system_cpu_ns);
            cm.cpu_percent = cpu / sys * (stats->online_cpus ? stats->online_cpus : 1) * 100.0;
          }
          next[o.info.id] = *stats;
          m.containers.push_back(std::move(cm));
        }
        *samples = std::move(next);
        m.ts = ts;
        publisher->metrics(m);
        strand->post([this, alive] {
          if (auto a = alive.lock(); a && *a) running_ = false;
        });
      });
}

}  // namespace pharos::agent
