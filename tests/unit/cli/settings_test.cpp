// Connection settings: config file syntax, and the precedence flags > env > file > defaults.
#include "cli/settings.h"

#include <doctest/doctest.h>

#include <map>

#include "cli/session.h"

using pharos::MqttOptions;
using pharos::Result;
using pharos::Status;
using namespace pharos::cli;

namespace {

FileReader files(std::map<std::string, std::string> contents) {
  return [contents](const std::string& path) -> Result<std::string> {
    auto it = contents.find(path);
    if (it == contents.end()) return Status::notFound("No such file or directory");
    return it->second;
  };
}

auto envOf(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST_CASE("reads key = value config files with comments, quotes and dashes") {
  auto layer = parseConfigFile(
      "# pharosctl\n\nbroker = tcp://10.0.0.1:1883\nuser=ops\n  password = \"p w\"\n"
      "ca-file = /etc/ca.pem\nrequest_timeout = 30s\n; other comment\n",
      "c.conf");
  REQUIRE(layer.isOk());
  CHECK(layer->broker == std::optional<std::string>("tcp://10.0.0.1:1883"));
  CHECK(layer->user == std::optional<std::string>("ops"));
  CHECK(layer->password == std::optional<std::string>("p w"));
  CHECK(layer->ca_file == std::optional<std::string>("/etc/ca.pem"));
  CHECK(layer->request_timeout == std::optional<std::string>("30s"));
}

TEST_CASE("the config file speaks the shared connection keys") {
  auto layer = parseConfigFile(
      "broker_url = ssl://site:8883\nusername = ops\ntls_ca = /ca\ntls_cert = /c\n"
      "tls_key = /k\ntls_insecure = true\n",
      "c.conf");
  REQUIRE(layer.isOk());
  CHECK(layer->broker == std::optional<std::string>("ssl://site:8883"));
  CHECK(layer->user == std::optional<std::string>("ops"));
  CHECK(layer->ca_file == std::optional<std::string>("/ca"));
  CHECK(layer->tls_cert == std::optional<std::string>("/c"));
  CHECK(layer->tls_key == std::optional<std::string>("/k"));
  CHECK(layer->tls_insecure == std::optional<bool>(true));
  CHECK_FALSE(layer->password.has_value());
  auto s = resolveSettings({}, {}, *layer, files({}));
  REQUIRE(s.isOk());
  MqttOptions m = sessionOptions(connectionOf(*s), std::chrono::seconds(5));
  REQUIRE(m.tls.has_value());
  CHECK(m.tls->cert_file == "/c");
  CHECK(m.username == "ops");
}

TEST_CASE("a bad config value names the line and the key") {
  auto bad = parseConfigFile("user = a\n\ntls_insecure = perhaps\n", "c.conf");
  REQUIRE_FALSE(bad.isOk());
  CHECK(bad.status().message() == "c.conf:3: tls_insecure: expected true or false, got 'perhaps'");
}

TEST_CASE("config files with unknown keys or lines without '=' are refused with the line") {
  auto unknown = parseConfigFile("user = a\nbrokr = x\n", "c.conf");
  REQUIRE_FALSE(unknown.isOk());
  CHECK(unknown.status().message().find("c.conf:2") != std::string::npos);
  auto bare = parseConfigFile("user\n", "c.conf");
  REQUIRE_FALSE(bare.isOk());
  CHECK(bare.status().message().find("c.conf:1") != std::string::npos);
}

TEST_CASE("defaults apply when nothing is set except the user") {
  SettingsLayer flags;
  flags.user = "ops";
  auto s = resolveSettings(flags, {}, {}, files({}));
  REQUIRE(s.isOk());
  CHECK(s->broker == "tcp://127.0.0.1:1883");
  CHECK(s->password.empty());
  CHECK(s->request_timeout == std::chrono::seconds(10));
}

TEST_CASE("flags beat the environment, which beats the file") {
  SettingsLayer file;
  file.broker = "tcp://file:1883";
  file.user = "file-user";
  file.password = "file-pw";
  file.ca_file = "/file/ca.pem";
  file.request_timeout = "3s";
  SettingsLayer env;
  env.broker = "tcp://env:1883";
  env.user = "env-user";
  SettingsLayer flags;
  flags.broker = "tcp://flag:1883";

  auto s = resolveSettings(flags, env, file, files({}));
  REQUIRE(s.isOk());
  CHECK(s->broker == "tcp://flag:1883");
  CHECK(s->user == "env-user");
  CHECK(s->user_source == "PHAROS_USER");
  CHECK(s->password == "file-pw");
  CHECK(s->ca_file == "/file/ca.pem");
  CHECK(s->request_timeout == std::chrono::seconds(3));
}

TEST_CASE("a password file in a higher source overrides a password in a lower one") {
  SettingsLayer file;
  file.user = "ops";
  file.password = "from-file";
  SettingsLayer env;
  env.password_file = "/run/pw";
  auto s = resolveSettings({}, env, file, files({{"/run/pw", "from-pw-file\n"}}));
  REQUIRE(s.isOk());
  CHECK(s->password == "from-pw-file");

  SettingsLayer flags;
  flags.password = "from-flag";
  auto f = resolveSettings(flags, env, file, files({{"/run/pw", "x"}}));
  REQUIRE(f.isOk());
  CHECK(f->password == "from-flag");
}

TEST_CASE("missing user, unreadable password file and bad timeouts are errors") {
  CHECK(resolveSettings({}, {}, {}, files({})).status().message().find("--user") !=
        std::string::npos);
  SettingsLayer env;
  env.user = "ops";
  env.password_file = "/nope";
  CHECK_FALSE(resolveSettings({}, env, {}, files({})).isOk());
  SettingsLayer t;
  t.user = "ops";
  t.request_timeout = "fast";
  CHECK_FALSE(resolveSettings(t, {}, {}, files({})).isOk());
}

TEST_CASE("environment variables map to settings; empty ones count as unset") {
  auto layer = settingsFromEnv(envOf({{"PHAROS_BROKER", "tcp://e:1"},
                                      {"PHAROS_USER", ""},
                                      {"PHAROS_PASSWORD", "pw"},
                                      {"PHAROS_CA_FILE", "/ca"}}));
  CHECK(layer.broker == std::optional<std::string>("tcp://e:1"));
  CHECK_FALSE(layer.user.has_value());
  CHECK(layer.password == std::optional<std::string>("pw"));
  CHECK(layer.ca_file == std::optional<std::string>("/ca"));
}

TEST_CASE("the config file path: --config, PHAROS_CONFIG, XDG_CONFIG_HOME, HOME") {
  CHECK(configFilePath(std::string("/x.conf"), envOf({})).path == "/x.conf");
  CHECK(configFilePath(std::string("/x.conf"), envOf({})).explicit_path);
  CHECK(configFilePath(std::nullopt, envOf({{"PHAROS_CONFIG", "/p.conf"}})).path == "/p.conf");
  CHECK(configFilePath(std::nullopt, envOf({{"XDG_CONFIG_HOME", "/xdg"}, {"HOME", "/h"}})).path ==
        "/xdg/pharos/pharosctl.conf");
  auto home = configFilePath(std::nullopt, envOf({{"HOME", "/home/op"}}));
  CHECK(home.path == "/home/op/.config/pharos/pharosctl.conf");
  CHECK_FALSE(home.explicit_path);
}

TEST_CASE("durations") {
  CHECK(*parseDuration("10s") == std::chrono::seconds(10));
  CHECK(*parseDuration("30") == std::chrono::seconds(30));
  CHECK(*parseDuration("1500ms") == std::chrono::milliseconds(1500));
  CHECK(*parseDuration("5m") == std::chrono::minutes(5));
  CHECK(*parseDuration("1h") == std::chrono::hours(1));
  CHECK(*parseDuration("0.5s") == std::chrono::milliseconds(500));
  CHECK_FALSE(parseDuration("").isOk());
  CHECK_FALSE(parseDuration("5 weeks").isOk());
  CHECK_FALSE(parseDuration("m").isOk());
  CHECK(formatDuration(std::chrono::seconds(10)) == "10 s");
  CHECK(formatDuration(std::chrono::minutes(5)) == "5 min");
  CHECK(formatDuration(std::chrono::milliseconds(1500)) == "1.5 s");
}
