// pharos-anchor's command line and config file. Flags (--broker-url, --data-dir, ...) win
// over a `--config FILE` of `key = value` lines with the same names ('-' or '_'). A bad
// command line or config is one clear message (the caller prints it and exits 2).
// Pure functions (reading the config and password files aside): thread-safe.
#pragma once

#include <chrono>
#include <set>
#include <string>

#include "anchor/anchor.h"
#include "pharos/config_table.h"
#include "pharos/connection.h"
#include "pharos/mqtt_link.h"
#include "pharos/status.h"

namespace pharos::anchor {

struct AnchorSettings {
  enum class Command { kRun, kBackup, kRestore };
  Command command = Command::kRun;
  std::string command_dir;  // backup / restore directory

  ConnectionSettings connection = connectionAs("anchor");
  std::string client_id = "pharos-anchor";
  std::string data_dir = "/var/lib/pharos-anchor";
  std::string log_level = "info";
  std::string agent_broker_url;  // written into node.add configs (default: broker_url)
  std::string agent_tls_ca;      // tls_ca written into node.add configs ("" = none)
  std::string dynsec_file;       // the broker's dynamic-security.json (backup / restore)
  // The at-rest key of secrets in the store (created mode 0600 at first start; "" =
  // <data_dir>/secrets.key). Backups include it only with include_secrets_key.
  std::string secrets_key_file;
  bool include_secrets_key = false;  // backup: copy the key file into the backup too
  AnchorOptions core;
};

struct AnchorCommandLine {
  AnchorSettings options;
  std::string help_text;  // set for --help: print it and exit 0
};

Result<AnchorCommandLine> parseAnchorCommandLine(int argc, const char* const* argv);

// Declares every anchor key (the shared connection keys included) over `settings`.
void addAnchorKeys(ConfigTable& table, AnchorSettings* settings);

// Applies one config file setting. Unknown keys are invalid_argument.
Status applyAnchorConfigKey(AnchorSettings& options, const std::string& key,
                            const std::string& value);

// The anchor's MQTT options: client id, credentials, keep-alive, TLS and the offline will.
MqttOptions anchorMqttOptions(const AnchorSettings& options, const Clock& clock);

// The secrets key file in effect: secrets_key_file, or <data_dir>/secrets.key.
std::string secretsKeyPath(const AnchorSettings& options);

}  // namespace pharos::anchor
