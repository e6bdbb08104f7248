// Runs one pharosctl command line end to end: parse, resolve the connection settings,
// connect, send the request, render, and --wait / --watch / --follow. Everything outside
// the process (environment, files, stdin, the MQTT link, the clock, the output streams,
// Ctrl-C) comes in through RunEnv, so tests can run whole commands against FakeBroker.
// Returns the documented exit code (exit_codes.h). Called from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command_line.h"
#include "cli/settings.h"
#include "pharos/mqtt_link.h"

namespace pharos::cli {

struct RunEnv {
  std::function<std::optional<std::string>(const char*)> getenv;
  FileReader read_file;
  std::function<Result<std::string>()> read_stdin;
  std::function<Status(const std::string& path, const std::string& text)> write_private_file;
  std::function<std::unique_ptr<MqttLink>(MqttOptions)> make_link;
  std::function<int64_t()> now_ms;
  std::function<bool()> interrupted;  // Ctrl-C seen (ends --watch / --follow / --wait)
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  bool stdout_is_tty = false;
};

// The real environment: getenv, files, std::cin/cout/cerr, Paho, SIGINT/SIGTERM.
RunEnv systemRunEnv();

int runPharosctl(const std::vector<std::string>& args, const RunEnv& env);

}  // namespace pharos::cli
