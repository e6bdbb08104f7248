// pharos-anchor's command line and config file: flags, config keys, flags winning over the
// file, password files, subcommands and clear errors.
#include "anchor/options.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pharos/manual_clock.h"

using namespace pharos;
using namespace pharos::anchor;

namespace {
Result<AnchorCommandLine> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "pharos-anchor");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parseAnchorCommandLine(static_cast<int>(argv.size()), argv.data());
}
std::string writeFile(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / (name + std::to_string(getpid()));
  std::ofstream(path) << text;
  return path.string();
}
}  // namespace

TEST_CASE("flags set the options") {
  auto r = parse({"--broker-url", "ssl://b:8883", "--username", "a", "--password", "p",
                  "--data-dir", "/tmp/x", "--require-approval", "--keep-alive", "20", "--viewer",
                  "v1", "--viewer", "v2", "--ca-file", "/ca.pem"});
  REQUIRE(r.isOk());
  const auto& o = r->options;
  CHECK(o.connection.broker_url == "ssl://b:8883");
  CHECK(o.core.require_approval);
  CHECK(o.connection.keep_alive == std::chrono::seconds(20));
  CHECK(o.core.viewers == std::set<std::string>{"v1", "v2"});
  CHECK(o.agent_broker_url == "ssl://b:8883");
  ManualClock clock;
  MqttOptions m = anchorMqttOptions(o, clock);
  REQUIRE(m.tls);
  CHECK(m.tls->ca_file == "/ca.pem");
  REQUIRE(m.will);
  CHECK(m.will->retained);
  CHECK(m.will->payload.find("offline") != std::string::npos);
}

TEST_CASE("a config file sets keys; flags win; the password file is read") {
  std::string pw = writeFile("anchor-pw", "s3cret\n");
  std::string conf = writeFile("anchor-conf",
                               "# comment\nbroker_url = tcp://x:1\nusername = anchor\n"
                               "password_file = " +
                                   pw +
                                   "\ndata-dir = /var/a\n"
                                   "require_approval = yes\nviewers = a, b\n");
  auto r = parse({"--config", conf, "--data-dir", "/override"});
  std::filesystem::remove(conf);
  std::filesystem::remove(pw);
  REQUIRE(r.isOk());
  CHECK(r->options.connection.broker_url == "tcp://x:1");
  CHECK(r->options.connection.password == "s3cret");
  CHECK(r->options.data_dir == "/override");
  CHECK(r->options.core.require_approval);
  CHECK(r->options.core.viewers == std::set<std::string>{"a", "b"});
}

TEST_CASE("bad command lines and config files are one clear error") {
  CHECK(parse({"--nope"}).status().code() == Code::kInvalidArgument);
  CHECK(parse({"--keep-alive", "0"}).status().code() == Code::kInvalidArgument);
  CHECK(parse({"--config", "/does/not/exist"}).status().code() == Code::kInvalidArgument);
  std::string conf = writeFile("anchor-bad", "broker_url = x\nwhat = ever\n");
  auto r = parse({"--config", conf});
  std::filesystem::remove(conf);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().message().find(":2: unknown key 'what'") != std::string::npos);
  CHECK(parse({"--password-file", "/does/not/exist"}).status().code() == Code::kInvalidArgument);
}

TEST_CASE("subcommands and help") {
  auto r = parse({"backup", "/b", "--data-dir", "/d"});
  REQUIRE(r.isOk());
  CHECK(r->options.command == AnchorSettings::Command::kBackup);
  CHECK(r->options.command_dir == "/b");
  CHECK(r->options.data_dir == "/d");
  auto h = parse({"--help"});
  REQUIRE(h.isOk());
  CHECK(h->help_text.find("--broker-url") != std::string::npos);
}

TEST_CASE("an anchor config with the older key names still works") {
  std::string conf = writeFile("anchor-old",
                               "broker = ssl://b:8883\nuser = anchor\nca_file = /ca\n"
                               "cert_file = /c\nkey_file = /k\nagent_ca_file = /dev-ca\n"
                               "viewers = v\nbridges = line1=tcp://l1:1883\n");
  auto r = parse({"--config", conf});
  std::filesystem::remove(conf);
  REQUIRE_MESSAGE(r.isOk(), r.status().toString());
  const auto& o = r->options;
  CHECK(o.connection.broker_url == "ssl://b:8883");
  CHECK(o.connection.username == "anchor");
  CHECK(o.connection.tls_ca == "/ca");
  CHECK(o.connection.tls_cert == "/c");
  CHECK(o.connection.tls_key == "/k");
  CHECK(o.agent_tls_ca == "/dev-ca");
  CHECK(o.core.viewers == std::set<std::string>{"v"});
  CHECK(o.core.bridges.at("line1") == std::vector<std::string>{"tcp://l1:1883"});
}

TEST_CASE("a bad value names the config file line and the key") {
  std::string conf = writeFile("anchor-badval", "# c\nkeep_alive = 0\n");
  auto r = parse({"--config", conf});
  std::filesystem::remove(conf);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().message().find(":2: keep_alive: must be from 1s") != std::string::npos);
}

TEST_CASE("site_time_zone is read from the system's zoneinfo and an unknown zone names the key") {
  auto r = parse({"--site-time-zone", "Asia/Tokyo"});
  REQUIRE(r.isOk());
  CHECK(r->options.core.site_time_zone.name() == "Asia/Tokyo");
  CHECK_FALSE(r->options.core.site_time_zone.processLocal());
  CHECK(r->options.core.site_time_zone.utcOffset(1700000000) == 9 * 3600);

  std::string conf = writeFile("anchor-zone", "site_time_zone = Europe/Berlin\n");
  auto from_file = parse({"--config", conf});
  std::filesystem::remove(conf);
  REQUIRE(from_file.isOk());
  CHECK(from_file->options.core.site_time_zone.name() == "Europe/Berlin");

  // Without the key: the process's own zone, as before the key existed.
  auto plain = parse({});
  REQUIRE(plain.isOk());
  CHECK(plain->options.core.site_time_zone.processLocal());

  conf = writeFile("anchor-badzone", "# c\nsite_time_zone = Mars/Olympus_Mons\n");
  auto bad = parse({"--config", conf});
  std::filesystem::remove(conf);
  REQUIRE_FALSE(bad.isOk());
  CHECK(bad.status().message().find(":2: site_time_zone: unknown time zone 'Mars/Olympus_Mons'") !=
        std::string::npos);
  auto flag = parse({"--site-time-zone", "../../etc/passwd"});
  REQUIRE_FALSE(flag.isOk());
  CHECK(flag.status().message().find("--site-time-zone: '../../etc/passwd' is not a time zone") !=
        std::string::npos);
}
