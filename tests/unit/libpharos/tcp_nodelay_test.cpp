// tcp_nodelay.h: the port of an MQTT URL, and TCP_NODELAY set on exactly the TCP sockets
// connected to a given port (a real loopback connection).
#include "pharos/tcp_nodelay.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace pharos;

namespace {

// A loopback listener on an ephemeral port, a client connected to it, the accepted end.
struct Connection {
  int listener = -1, client = -1, server = -1;
  uint16_t port = 0;
  Connection() {
    listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(listen(listener, 4) == 0);
    socklen_t len = sizeof(addr);
    REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port = ntohs(addr.sin_port);
    client = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    server = accept(listener, nullptr, nullptr);
    REQUIRE(server >= 0);
  }
  ~Connection() {
    for (int fd : {listener, client, server}) close(fd);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
};

bool noDelay(int fd) {
  int on = 0;
  socklen_t len = sizeof(on);
  REQUIRE(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0);
  return on != 0;
}

}  // namespace

TEST_CASE("the port of an MQTT url, with the scheme's default") {
  CHECK(mqttUrlPort("tcp://127.0.0.1:1884") == uint16_t{1884});
  CHECK(mqttUrlPort("mqtt://broker") == uint16_t{1883});
  CHECK(mqttUrlPort("ssl://broker") == uint16_t{8883});
  CHECK(mqttUrlPort("mqtts://broker:9000") == uint16_t{9000});
  CHECK(mqttUrlPort("ws://127.0.0.1:9001/mqtt") == uint16_t{9001});
  CHECK(mqttUrlPort("wss://broker/mqtt") == uint16_t{443});
  CHECK(mqttUrlPort("tcp://[::1]:1885") == uint16_t{1885});
  CHECK(mqttUrlPort("tcp://[::1]") == uint16_t{1883});
  CHECK_FALSE(mqttUrlPort("broker:1883"));
  CHECK_FALSE(mqttUrlPort("tcp://"));
  CHECK_FALSE(mqttUrlPort("tcp://h:99999"));
  CHECK_FALSE(mqttUrlPort("tcp://h:x"));
}

TEST_CASE("TCP_NODELAY is set on the sockets connected to the port, and only on them") {
  Connection a;
  Connection other;
  REQUIRE_FALSE(noDelay(a.client));
  REQUIRE_FALSE(noDelay(other.client));
  // The accepted end's peer is the client's ephemeral port: not a match.
  CHECK(setTcpNoDelayToPort(a.port) == 1);
  CHECK(noDelay(a.client));
  CHECK_FALSE(noDelay(a.server));
  CHECK_FALSE(noDelay(other.client));
  // Already set: nothing more to change.
  CHECK(setTcpNoDelayToPort(a.port) == 0);
}
