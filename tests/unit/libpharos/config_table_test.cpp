// The settings key table: one table reads files, declares flags and writes configs; bad
// values name the key and the line; older spellings still work and are reported once.
#include "pharos/config_table.h"

#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "pharos/agent_settings.h"
#include "pharos/connection.h"

namespace pharos {
namespace {

struct Sample {
  std::string name = "none";
  bool flag = false;
  int count = 4;
  std::chrono::seconds period{10};
  std::chrono::milliseconds jitter{2000};
  std::string level = "info";
  std::vector<std::string> items;
};

ConfigTable sampleTable(Sample& s) {
  ConfigTable t;
  t.text("name", &s.name, "a name").aliases = {"old_name"};
  t.boolean("flag", &s.flag, "a switch");
  t.integer("count", &s.count, 1, 99, "a count");
  t.seconds("period", &s.period, 1, 3600, "a period");
  t.milliseconds("jitter", &s.jitter, 60'000, "a jitter");
  t.choice("level", &s.level, {"debug", "info"}, "a level");
  t.add(
      "item", "an item",
      [&s](const std::string& v) {
        s.items.push_back(v);
        return Status::ok();
      },
      ConfigTable::Kind::kRepeatable);
  return t;
}

Result<std::set<std::string>> parseFlags(ConfigTable& t, std::vector<std::string> args) {
  CLI::App app{"test"};
  t.declareFlags(app);
  std::vector<const char*> argv{"test"};
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return t.applyFlags();
}

TEST_CASE("reads key = value lines with comments, quotes, dashes and repeatable keys") {
  Sample s;
  ConfigTable t = sampleTable(s);
  Status st = t.applyText(
      "# comment\n; also a comment\n\n  name = \"press 3\"  \nflag = yes\ncount=7\n"
      "period = 1m\njitter = 250\nlevel = debug\nitem = a\nitem = b\n",
      "test.conf");
  REQUIRE(st.isOk());
  CHECK(s.name == "press 3");
  CHECK(s.flag);
  CHECK(s.count == 7);
  CHECK(s.period == std::chrono::seconds(60));
  CHECK(s.jitter == std::chrono::milliseconds(250));
  CHECK(s.level == "debug");
  CHECK(s.items == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a bad value names the file, the line and the key") {
  struct Case {
    const char* text;
    const char* message;
  };
  // One per line: the text, and the message it must give.
  for (const Case& c : {
           Case{"name = x\ncount = 0\n",
                "test.conf:2: count: expected a number from 1 to 99, got '0'"},
           Case{"\n\ncount = many\n",
                "test.conf:3: count: expected a number from 1 to 99, got 'many'"},
           Case{"flag = maybe\n", "test.conf:1: flag: expected true or false, got 'maybe'"},
           Case{"period = 0\n", "test.conf:1: period: must be from 1s to 3600s, got '0'"},
           Case{"period = soon\n", "test.conf:1: period: 'soon' is not a duration"},
           Case{"jitter = 2m\n", "test.conf:1: jitter: must be at most 60000ms, got '2m'"},
           Case{"level = loud\n", "test.conf:1: level: 'loud' is not one of debug, info"},
           Case{"colour = red\n", "test.conf:1: unknown key 'colour'"},
           Case{"# ok\nname\n", "test.conf:2: expected 'key = value', got 'name'"},
       }) {
    CAPTURE(c.text);
    Sample s;
    Status st = sampleTable(s).applyText(c.text, "test.conf");
    CHECK_FALSE(st.isOk());
    CHECK(st.message().rfind(c.message, 0) == 0);
  }
}

TEST_CASE("an older spelling sets the same field and is reported as deprecated once") {
  Sample s;
  ConfigTable t = sampleTable(s);
  REQUIRE(t.applyText("old-name = a\nold_name = b\n", "test.conf").isOk());
  CHECK(s.name == "b");
  CHECK(t.deprecatedUsed() == std::set<std::string>{"old_name"});
  CHECK(t.applied() == std::set<std::string>{"name"});
}

TEST_CASE("flags use the same keys, aliases and parsers, and win over the file") {
  Sample s;
  ConfigTable t = sampleTable(s);
  auto given = parseFlags(t, {"--old-name", "cli", "--flag", "--count=9", "--item", "x"});
  REQUIRE(given.isOk());
  CHECK(*given == std::set<std::string>{"name", "flag", "count", "item"});
  REQUIRE(t.applyText("name = file\ncount = 3\nperiod = 20\n", "f", *given).isOk());
  CHECK(s.name == "cli");
  CHECK(s.flag);
  CHECK(s.count == 9);
  CHECK(s.period == std::chrono::seconds(20));
  CHECK(s.items == std::vector<std::string>{"x"});
}

TEST_CASE("a bad flag value names the flag") {
  Sample s;
  ConfigTable t = sampleTable(s);
  auto given = parseFlags(t, {"--count", "100"});
  REQUIRE_FALSE(given.isOk());
  CHECK(given.status().message() == "--count: expected a number from 1 to 99, got '100'");
}

TEST_CASE("writeConfig writes what applyText reads back") {
  Sample s;
  s.name = "edge";
  s.count = 12;
  ConfigTable t = sampleTable(s);
  std::string text = t.writeConfig({"name", "count", "period", "flag"});
  CHECK(text == "name = edge\ncount = 12\nperiod = 10s\nflag = false\n");
  Sample back;
  REQUIRE(sampleTable(back).applyText(text, "written").isOk());
  CHECK(back.name == "edge");
  CHECK(back.count == 12);
}

TEST_CASE("the connection keys have one spelling and accept the older ones") {
  ConnectionSettings c;
  ConfigTable t;
  addConnectionKeys(t, &c);
  REQUIRE(t.applyText("broker = ssl://b:8883\nuser = u\nca_file = /ca\ncert_file = /c\n"
                      "key_file = /k\n",
                      "old.conf")
              .isOk());
  CHECK(c.broker_url == "ssl://b:8883");
  CHECK(c.username == "u");
  CHECK(c.tls_ca == "/ca");
  CHECK(c.tls_cert == "/c");
  CHECK(c.tls_key == "/k");
  CHECK(t.deprecatedUsed() ==
        std::set<std::string>{"broker", "user", "ca_file", "cert_file", "key_file"});
  MqttOptions m = connectionMqttOptions(c);
  REQUIRE(m.tls.has_value());
  CHECK(m.tls->ca_file == "/ca");
  CHECK(m.username == "u");
}

TEST_CASE("the connection checks name the key") {
  ConnectionSettings c;
  c.broker_url = "127.0.0.1:1883";
  CHECK(finishConnection(c).message().rfind("broker_url: '127.0.0.1:1883' needs a scheme", 0) == 0);
  c.broker_url = "tcp://h:1";
  c.tls_cert = "/c";
  CHECK(finishConnection(c).message() == "tls_cert and tls_key must be given together");
  c.tls_key = "/k";
  CHECK(finishConnection(c).isOk());
  CHECK(usesTls(c));
  ConnectionSettings plain;
  CHECK_FALSE(usesTls(plain));
  CHECK_FALSE(connectionMqttOptions(plain).tls.has_value());
}

TEST_CASE("the agent config node.add writes parses with the agent's own table") {
  AgentSettings written;
  written.node_id = "press-3";
  written.connection.broker_url = "ssl://site:8883";
  written.connection.username = "press-3";
  written.connection.password = "s3cret";
  written.connection.tls_ca = "/etc/pharos/ca.crt";
  std::string text = renderAgentConfig(written);
  AgentSettings read;
  ConfigTable t;
  addAgentKeys(t, &read);
  REQUIRE(t.applyText(text, "agent.conf").isOk());
  CHECK(t.deprecatedUsed().empty());
  CHECK(read.node_id == "press-3");
  CHECK(read.connection.broker_url == "ssl://site:8883");
  CHECK(read.connection.username == "press-3");
  CHECK(read.connection.password == "s3cret");
  CHECK(read.connection.tls_ca == "/etc/pharos/ca.crt");
}

TEST_CASE("the agent's key_file is its sealing key, not a TLS key") {
  AgentSettings s;
  ConfigTable t;
  addAgentKeys(t, &s);
  REQUIRE(t.applyText("key_file = /var/lib/pharos-agent/node.key\n", "agent.conf").isOk());
  CHECK(s.node_key_file == "/var/lib/pharos-agent/node.key");
  CHECK(s.connection.tls_key.empty());
}

}  // namespace
}  // namespace pharos
