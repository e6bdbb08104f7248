// Table-driven tests of the compose model's scalar syntaxes: interpolation, durations, byte
// sizes, port specs and shell splitting. Each table lists accepted inputs with their value,
// then inputs that must fail.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pharos/compose.h"

using namespace std::chrono_literals;

TEST_CASE("interpolation follows docker-compose syntax") {
  const pharos::Variables vars = {
      {"NAME", "edge"}, {"EMPTY", ""}, {"PORT", "8080"}, {"_UNDER", "u"}, {"A1", "a1"}};
  struct Case {
    const char* input;
    const char* expected;
  };
  const Case cases[] = {
      {"plain text", "plain text"},
      {"${NAME}", "edge"},
      {"$NAME", "edge"},
      {"$NAME-suffix", "edge-suffix"},
      {"${NAME}suffix", "edgesuffix"},
      {"$_UNDER/$A1", "u/a1"},
      {"${MISSING}", ""},
      {"$MISSING", ""},
      {"${MISSING:-fallback}", "fallback"},
      {"${MISSING-fallback}", "fallback"},
      {"${EMPTY:-fallback}", "fallback"},
      {"${EMPTY-fallback}", ""},
      {"${NAME:-fallback}", "edge"},
      {"${NAME:+alt}", "alt"},
      {"${EMPTY:+alt}", ""},
      {"${EMPTY+alt}", "alt"},
      {"${MISSING+alt}", ""},
      {"${MISSING:-${NAME}}", "edge"},
      {"${MISSING:-${ALSO_MISSING:-deep}}", "deep"},
      {"${MISSING:-a b c}", "a b c"},
      {"${NAME:?must be set}", "edge"},
      {"${EMPTY?only unset fails}", ""},
      {"$$", "$"},
      {"$$NAME", "$NAME"},
      {"$${NAME}", "${NAME}"},
      {"price: $$5", "price: $5"},
      {"${PORT}:80", "8080:80"},
      {"a${NAME}b${PORT}c", "aedgeb8080c"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    pharos::Result<std::string> out = pharos::interpolateVariables(c.input, vars);
    REQUIRE(out.isOk());
    CHECK(*out == c.expected);
  }
}

TEST_CASE("interpolation reports missing variables without a default") {
  std::vector<std::string> missing;
  pharos::Result<std::string> out =
      pharos::interpolateVariables("${A}-${B:-x}-$C-${D-y}", {}, &missing);
  REQUIRE(out.isOk());
  CHECK(*out == "-x--y");
  CHECK(missing == std::vector<std::string>{"A", "C"});
}

TEST_CASE("interpolation refuses malformed references and unset required variables") {
  const pharos::Variables vars = {{"EMPTY", ""}};
  for (const char* input :
       {"$", "trailing $", "${", "${NAME", "${}", "${1ABC}", "$-x", "$ x", "${NAME:}", "${NAME!x}",
        "${MISSING:?}", "${MISSING?}", "${EMPTY:?empty}", "${MISSING:?explain it}"}) {
    CAPTURE(input);
    CHECK_FALSE(pharos::interpolateVariables(input, vars).isOk());
  }
  pharos::Result<std::string> out = pharos::interpolateVariables("${TOKEN:?set TOKEN}", {});
  REQUIRE_FALSE(out.isOk());
  CHECK(out.status().message().find("TOKEN") != std::string::npos);
  CHECK(out.status().message().find("set TOKEN") != std::string::npos);
}

TEST_CASE("durations parse like compose") {
  struct Case {
    const char* input;
    pharos::Duration expected;
  };
  const Case cases[] = {
      {"0", 0ns},    {"10s", 10s},          {"1m30s", 90s},
      {"1h", 1h},    {"500ms", 500ms},      {"20us", 20us},
      {"7ns", 7ns},  {"1.5s", 1500ms},      {"1h2m3s4ms", 1h + 2min + 3s + 4ms},
      {"0.5m", 30s}, {"2h45m", 2h + 45min},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    pharos::Result<pharos::Duration> out = pharos::parseDuration(c.input);
    REQUIRE(out.isOk());
    CHECK(out->count() == c.expected.count());
  }
  for (const char* input : {"", "10", "s", "10x", "1d", "-5s", "1m 30s", "ten seconds", ".s",
                            "99999999999999999999h"}) {
    CAPTURE(input);
    CHECK_FALSE(pharos::parseDuration(input).isOk());
  }
}

TEST_CASE("byte sizes parse like compose with binary units") {
  struct Case {
    const char* input;
    int64_t expected;
  };
  const Case cases[] = {
      {"1024", 1024},
      {"100b", 100},
      {"1k", 1024},
      {"1kb", 1024},
      {"512m", 512LL << 20},
      {"512M", 512LL << 20},
      {"512MB", 512LL << 20},
      {"64MiB", 64LL << 20},
      {"1g", 1LL << 30},
      {"1GB", 1LL << 30},
      {"2t", 2LL << 40},
      {"1.5g", 3LL << 29},
      {"0", 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    pharos::Result<int64_t> out = pharos::parseByteSize(c.input);
    REQUIRE(out.isOk());
    CHECK(*out == c.expected);
  }
  for (const char* input : {"", "m", "512q", "-1", "1 gigabyte", "1e9", "99999999999t"}) {
    CAPTURE(input);
    CHECK_FALSE(pharos::parseByteSize(input).isOk());
  }
}

TEST_CASE("short port specs normalise to one mapping per port") {
  using pharos::PortMapping;
  struct Case {
    const char* input;
    std::vector<PortMapping> expected;
  };
  const Case cases[] = {
      {"80", {{"", "", 80, "tcp"}}},
      {"8080:80", {{"", "8080", 80, "tcp"}}},
      {"53:53/udp", {{"", "53", 53, "udp"}}},
      {"127.0.0.1:8080:80", {{"127.0.0.1", "8080", 80, "tcp"}}},
      {"127.0.0.1::80", {{"127.0.0.1", "", 80, "tcp"}}},
      {"[::1]:8080:80", {{"::1", "8080", 80, "tcp"}}},
      {"::1:8080:80", {{"::1", "8080", 80, "tcp"}}},
      {"8000-8001:80-81", {{"", "8000", 80, "tcp"}, {"", "8001", 81, "tcp"}}},
      {"80-81", {{"", "", 80, "tcp"}, {"", "", 81, "tcp"}}},
      {"8000-8010:80", {{"", "8000-8010", 80, "tcp"}}},
      {"0.0.0.0:1000-1001:2000-2001/sctp",
       {{"0.0.0.0", "1000", 2000, "sctp"}, {"0.0.0.0", "1001", 2001, "sctp"}}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    pharos::Result<std::vector<PortMapping>> out = pharos::parsePortSpec(c.input);
    REQUIRE(out.isOk());
    CHECK(*out == c.expected);
  }
  for (const char* input :
       {"", ":", "0", "65536", "80:", "8080:0", "abc", "80/icmp", "81-80", "8000-8002:80-81",
        "1.2.3:80:80", "localhost:80:80", "80:80:80:80", "-80", "80/"}) {
    CAPTURE(input);
    CHECK_FALSE(pharos::parsePortSpec(input).isOk());
  }
}

TEST_CASE("commands given as strings are split like a shell") {
  struct Case {
    const char* input;
    std::vector<std::string> expected;
  };
  const Case cases[] = {
      {"echo hello", {"echo", "hello"}},
      {"  spaced   out  ", {"spaced", "out"}},
      {"sh -c 'echo $HOME; exit 1'", {"sh", "-c", "echo $HOME; exit 1"}},
      {R"(echo "a \"quoted\" word")", {"echo", R"(a "quoted" word)"}},
      {R"(echo a\ b)", {"echo", "a b"}},
      {R"(x'y'"z")", {"xyz"}},
      {"''", {""}},
      {"", {}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    pharos::Result<std::vector<std::string>> out = pharos::shellSplit(c.input);
    REQUIRE(out.isOk());
    CHECK(*out == c.expected);
  }
  for (const char* input : {"echo 'open", "echo \"open", "trailing\\"}) {
    CAPTURE(input);
    CHECK_FALSE(pharos::shellSplit(input).isOk());
  }
}

TEST_CASE("project names follow the app name rules") {
  CHECK(pharos::validateProjectName("plant-monitor").isOk());
  CHECK(pharos::validateProjectName("a1_b").isOk());
  CHECK_FALSE(pharos::validateProjectName("").isOk());
  CHECK_FALSE(pharos::validateProjectName("with.dot").isOk());
  CHECK_FALSE(pharos::validateProjectName("Upper").isOk());
  CHECK_FALSE(pharos::validateProjectName("-lead").isOk());
}
