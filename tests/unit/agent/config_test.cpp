// Agent configuration: file syntax, flags over file, defaults from the machine, and bad
// configurations refused with one clear message.
#include "agent/config.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace pharos::agent {
namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/pharos-config-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

Result<CommandLine> run(std::vector<std::string> args, const std::string& machine_id) {
  std::vector<const char*> argv = {"pharos-agent"};
  for (const auto& a : args) argv.push_back(a.c_str());
  return parseCommandLine(static_cast<int>(argv.size()), argv.data(), machine_id);
}

TEST_CASE("the sample config file parses") {
  AgentSettings c;
  std::ifstream in(std::string(PHAROS_SOURCE_DIR) + "/agent/pharos-agent.conf.sample");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  Status st = applyConfigText(c, ss.str(), "sample");
  CHECK_MESSAGE(st.isOk(), st.toString());
}

TEST_CASE("file keys, comments, quotes and durations") {
  AgentSettings c;
  REQUIRE(applyConfigText(c,
                          "# comment\n"
                          "node_id = edge-7\n"
                          "broker-url = \"tcp://127.0.0.1:1884\"\n"
                          "keep_alive = 20\n"
                          "reconcile_interval = 1m\n"
                          "pull_jitter = 250ms\n"
                          "label = line=a\n"
                          "label = zone=hall-2\n",
                          "f")
              .isOk());
  CHECK(c.node_id == "edge-7");
  CHECK(c.connection.broker_url == "tcp://127.0.0.1:1884");
  CHECK(c.connection.keep_alive == std::chrono::seconds(20));
  CHECK(c.reconcile_interval == std::chrono::seconds(60));
  CHECK(c.pull_jitter == std::chrono::milliseconds(250));
  CHECK(c.labels == std::map<std::string, std::string>{{"line", "a"}, {"zone", "hall-2"}});
}

TEST_CASE("bad config lines are refused naming the line") {
  const std::pair<const char*, const char*> kBad[] = {
      {"no equals sign", "f:1"},
      {"colour = blue", "unknown key"},
      {"keep_alive = soon", "keep_alive"},
      {"keep_alive = 0", "must be from 1s"},
      {"log_level = loud", "log_level"},
      {"label = NoValue", "key=value"},
      {"label = Bad=1", "label"},
      {"threads = 0", "threads"},
      {"tls_insecure = maybe", "tls_insecure: expected true or false"},
  };
  for (const auto& [text, needle] : kBad) {
    CAPTURE(text);
    AgentSettings c;
    Status st = applyConfigText(c, text, "f");
    REQUIRE_FALSE(st.isOk());
    CHECK(st.message().find(needle) != std::string::npos);
  }
}

TEST_CASE("the node id defaults to the machine id and the username to the node id") {
  TempDir dir;
  std::ofstream(dir.path + "/machine-id") << "0123456789abcdef0123456789abcdef\n";
  auto cl = run({"--config", "/dev/null"}, dir.path + "/machine-id");
  REQUIRE_MESSAGE(cl.isOk(), cl.status().toString());
  CHECK(cl->config.node_id == "0123456789abcdef0123456789abcdef");
  CHECK(cl->config.connection.username == cl->config.node_id);
}

TEST_CASE("flags win over the file") {
  TempDir dir;
  std::ofstream(dir.path + "/agent.conf") << "node_id = from-file\nbroker_url = tcp://a:1\n";
  std::ofstream(dir.path + "/pw") << "s3cret\n";
  auto cl = run({"--config", dir.path + "/agent.conf", "--broker-url", "tcp://127.0.0.1:2",
                 "--password-file", dir.path + "/pw", "-l", "k=v"},
                "/nonexistent");
  REQUIRE_MESSAGE(cl.isOk(), cl.status().toString());
  CHECK(cl->config.node_id == "from-file");
  CHECK(cl->config.connection.broker_url == "tcp://127.0.0.1:2");
  CHECK(cl->config.connection.password == "s3cret");
  CHECK(cl->config.labels.at("k") == "v");
}

TEST_CASE("bad command lines and missing machine ids are one clear error") {
  CHECK_FALSE(run({"--no-such-flag"}, "/nonexistent").isOk());
  auto no_id = run({"--config", "/dev/null"}, "/nonexistent");
  REQUIRE_FALSE(no_id.isOk());
  CHECK(no_id.status().message().find("node_id") != std::string::npos);
  CHECK_FALSE(run({"--config", "/nonexistent.conf", "--node-id", "a"}, "/x").isOk());
  CHECK_FALSE(run({"--node-id", "UPPER"}, "/x").isOk());
  CHECK_FALSE(run({"--node-id", "a", "--broker-url", "127.0.0.1:1883"}, "/x").isOk());
  CHECK_FALSE(run({"--node-id", "a", "--password-file", "/nonexistent"}, "/x").isOk());
}

TEST_CASE("--help returns the help text") {
  auto cl = run({"--help"}, "/x");
  REQUIRE(cl.isOk());
  CHECK(cl->help_text.find("--broker-url") != std::string::npos);
}

TEST_CASE("mqtt options carry keep-alive, credentials and TLS") {
  AgentSettings c;
  c.node_id = "edge-1";
  c.connection.username = "edge-1";
  c.connection.password = "pw";
  c.connection.broker_url = "ssl://broker:8883";
  c.connection.tls_ca = "/etc/ca.pem";
  c.connection.keep_alive = std::chrono::seconds(7);
  MqttOptions o = mqttOptions(c);
  CHECK(o.keep_alive == std::chrono::seconds(7));
  CHECK(o.username == "edge-1");
  REQUIRE(o.tls.has_value());
  CHECK(o.tls->ca_file == "/etc/ca.pem");
  CHECK(o.auto_reconnect);
}

}  // namespace
}  // namespace pharos::agent
