// FakeEngine: the state one in-memory Docker Engine holds (images, containers, networks,
// volumes, event subscribers, call counters, injected failures) and the steps the resource
// fakes share (fake_docker.h): the engine's state machine for a container, mounts and network
// attachments, event emission and delivery. Internal to pharos_agent_testing.
//
// Locking: every field is guarded by mu_ (the condition variables and the subscribers' own
// mutexes excepted). Methods named ...Locked, and enter/find*/emit, expect mu_ held; deliver()
// and deliverState() expect it released.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/fake_docker.h"

namespace pharos::agent {

class FakeEngine {
 public:
  struct Image {
    std::string id;
    Labels labels;
    std::vector<std::string> tags;
    std::vector<std::string> volume_paths;
    int64_t created_ms = 0;
  };
  struct MountedVolume {
    std::string name;
    std::string path;
    bool anonymous = false;  // made for this container (rm -v removes it when unused)
  };
  struct Endpoint {
    std::string network_id;
    std::vector<std::string> aliases;
    std::string ip;
  };
  struct Container {
    std::string id;
    std::string name;
    Json body;  // the create body as given
    std::string image_ref;
    std::string image_id;
    Labels labels;
    ContainerState state = ContainerState::kCreated;
    std::string health;  // "" = no healthcheck
    int exit_code = 0;
    int restart_count = 0;
    int exits = 0;  // how many times it exited (waiters wake on a change)
    int last_exit_code = 0;
    bool oom_killed = false;
    bool stopped_by_user = false;
    int64_t created_ms = 0;
    int64_t started_ms = 0;
    int64_t finished_ms = 0;
    std::map<std::string, Endpoint> endpoints;  // network name -> endpoint
    std::vector<MountedVolume> volumes;         // volumes it mounts
    std::string logs;
    ContainerStats stats;
  };
  struct Network {
    std::string id;
    std::string name;
    std::string driver;
    bool internal = false;
    Labels labels;
    Json body;
    int64_t created_ms = 0;
    bool builtin = false;
  };
  struct Volume {
    std::string name;
    std::string driver;
    Labels labels;
    Json body;
    int64_t created_ms = 0;
  };
  struct Subscriber {
    EventFilter filter;
    EventCallback on_event;
    EventStateCallback on_state;
    std::recursive_mutex mu;  // held while delivering, so stop() waits for a delivery
    bool active = true;       // guarded by mu
  };
  using Pending = std::vector<DockerEvent>;

  // `clock` stamps events and times (null = the system clock); the built-in networks exist.
  explicit FakeEngine(const Clock* clock);

  // Counts the call and applies failNext/engine-down.
  Status enter(DockerOp op);
  int64_t nowMs() const;
  std::string newId();
  void emit(Pending& out, const std::string& type, const std::string& action, const std::string& id,
            Labels attributes);
  void deliver(const Pending& events);
  void deliverState(const Status& status);
  std::string normalizeRef(const std::string& reference) const;
  Image* findImage(const std::string& reference_or_id);
  Container* findContainer(const std::string& id_or_name);
  Network* findNetwork(const std::string& id_or_name);
  ContainerInfo containerInfoLocked(const Container& c) const;
  NetworkInfo networkInfoLocked(const Network& n) const;
  VolumeInfo volumeInfoLocked(const Volume& v) const;
  Labels containerAttributes(const Container& c) const;
  void startLocked(Container& c, Pending& out);
  void exitLocked(Container& c, int exit_code, Pending& out);
  bool shouldRestart(const Container& c) const;
  void removeContainerLocked(const std::string& id, Pending& out);
  // The volumes of a new container, as the engine mounts them: Binds "name:/path" and Mounts
  // of type volume (created on demand), anonymous volumes for the Volumes of the body and of
  // the image that nothing else mounts; a bind Mount whose source is missing is refused.
  Status mountVolumesLocked(Container& c, const Json& body, const Image& image, Pending& out);
  bool volumeInUseLocked(const std::string& name) const;
  Status attachLocked(Container& c, const std::string& network, const Json& endpoint_config,
                      Pending& out);
  void tagLocked(const std::string& ref, Image image);
  void untagLocked(const std::string& ref, Pending& out);

  const Clock* clock_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  mutable std::condition_variable stops_cv_;  // held stops: released / newly held
  bool hold_stops_ = false;
  uint64_t stop_release_ = 0;  // bumped by releaseStops()
  std::vector<std::string> held_stops_;
  bool up_ = true;
  uint64_t next_id_ = 1;
  std::array<int, static_cast<size_t>(DockerOp::kCount)> calls_{};
  std::map<DockerOp, std::deque<Status>> failures_;
  std::map<std::string, Image> registry_;                          // normalized ref -> image
  std::map<std::string, Status> pull_failures_;                    // normalized ref -> error
  std::map<std::string, std::optional<RegistryAuth>> pull_auths_;  // normalized ref -> last
  std::map<std::string, Image> images_;                            // image id -> image
  std::map<std::string, std::string> tags_;                        // normalized ref -> image id
  std::map<std::string, Container> containers_;                    // id -> container
  std::map<std::string, std::string> names_;                       // name -> id
  std::map<std::string, Network> networks_;                        // id -> network
  std::map<std::string, Volume> volumes_;                          // name -> volume
  std::vector<std::shared_ptr<Subscriber>> subscribers_;
};

// Short names for the fakes' implementation files (this header is theirs alone).
using Container = FakeEngine::Container;
using Image = FakeEngine::Image;
using Network = FakeEngine::Network;
using Volume = FakeEngine::Volume;
using Pending = FakeEngine::Pending;
using Endpoint = FakeEngine::Endpoint;
using MountedVolume = FakeEngine::MountedVolume;
using Subscriber = FakeEngine::Subscriber;

}  // namespace pharos::agent
