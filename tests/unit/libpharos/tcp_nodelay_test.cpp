// tcp_nodelay.h: the port of an MQTT URL, and TCP_NODELAY set on exactly the TCP sockets
// connected to a given port (a real loopback connection); the Paho link sets it on its
// socket to a real Mosquitto after every connect, unless MqttOptions::tcp_nodelay is off.
#include "pharos/tcp_nodelay.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mosquitto_process.h"

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

// TCP_NODELAY of every socket of this process connected to `port`.
std::vector<bool> noDelayToPort(int port) {
  std::vector<bool> out;
  DIR* dir = opendir("/proc/self/fd");
  REQUIRE(dir != nullptr);
  while (dirent* entry = readdir(dir)) {
    int fd = std::atoi(entry->d_name);
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    int on = 0;
    socklen_t on_len = sizeof(on);
    if (fd <= 2 || getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0 ||
        peer.sin_family != AF_INET || ntohs(peer.sin_port) != port ||
        getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &on_len) != 0) {
      continue;
    }
    out.push_back(on != 0);
  }
  closedir(dir);
  return out;
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

TEST_CASE("the paho link sets TCP_NODELAY on its broker socket after every connect") {
  using pharos_test::options;
  using pharos_test::waitFor;
  pharos_test::MosquittoProcess broker;
  broker.start();
  // Off: the socket keeps Nagle's algorithm.
  MqttOptions off = options(broker, "off");
  off.tcp_nodelay = false;
  auto quiet = makePahoLink(off);
  REQUIRE(quiet->connect().isOk());
  CHECK(noDelayToPort(broker.port()) == std::vector<bool>{false});
  quiet->disconnect();
  quiet.reset();
  REQUIRE(waitFor([&] { return noDelayToPort(broker.port()).empty(); }));

  auto link = makePahoLink(options(broker, "on"));
  REQUIRE(link->connect().isOk());
  CHECK(waitFor([&] { return noDelayToPort(broker.port()) == std::vector<bool>{true}; }));
  // A reconnect opens a new socket: it gets the option too.
  broker.stop();
  REQUIRE(waitFor([&] { return !link->connected(); }));
  broker.start();
  REQUIRE(waitFor([&] { return link->connected(); }, std::chrono::seconds(10)));
  CHECK(waitFor([&] { return noDelayToPort(broker.port()) == std::vector<bool>{true}; }));
}
