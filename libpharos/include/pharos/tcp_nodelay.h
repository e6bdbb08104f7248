// TCP_NODELAY for sockets a library opened and does not expose (Paho C offers no socket
// option hook). With Nagle's algorithm on, a small MQTT packet written right after another
// one (an API reply after the PUBACK of its request) waits for the peer's delayed ACK,
// 40 ms on Linux: the anchor's API round trip sat at ~44 ms whatever the work.
//
// Threading: any thread. The scan reads /proc/self/fd; a descriptor closed and reused
// during the scan may get TCP_NODELAY too, which is harmless.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace pharos {

// The TCP port of an MQTT URL (tcp://h:p, ssl://, ws://h:p/path, wss://, mqtt://, mqtts://),
// with the scheme's default when none is given; nullopt when the URL has no host part.
std::optional<uint16_t> mqttUrlPort(const std::string& url);

// Sets TCP_NODELAY on every TCP socket of this process connected to `peer_port` that does
// not have it yet. Returns how many sockets were changed.
int setTcpNoDelayToPort(uint16_t peer_port);

}  // namespace pharos
