// The pharos-agent process around the core: builds the object graph (thread pools, Paho
// link, Docker client, state file, Agent) from the settings, runs until `stop` is set (by
// the signal handler), telling systemd (Type=notify) when it is connected and feeding its
// watchdog, then stops cleanly. Called from main.cpp only, on the main thread.
#pragma once

#include <csignal>

#include "agent/config.h"
#include "pharos/sealed.h"

namespace pharos::agent {

// Exit code 0 after a clean stop.
int runAgent(const AgentSettings& config, const sealed::KeyPair& keys,
             const volatile std::sig_atomic_t& stop);

}  // namespace pharos::agent
