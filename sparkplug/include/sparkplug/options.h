// Command line and config file of pharos-sparkplug. The config file has `key = value` lines
// in the anchor's style (packaging/etc/sparkplug.conf documents every key); each key is also
// a flag (`--group-id X`), and a flag wins over the file. Errors name the key or file line.
#pragma once

#include <string>
#include <vector>

#include "pharos/mqtt_link.h"
#include "pharos/status.h"
#include "sparkplug/edge_node.h"

namespace pharos::sparkplug {

struct SparkplugOptions {
  std::string broker_url = "tcp://127.0.0.1:1883";
  std::string client_id;  // default: pharos-sparkplug-<edge_node_id>
  std::string username = "sparkplug";
  std::string password;
  std::string password_file;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool tls_insecure = false;
  int keep_alive = 10;
  std::string data_dir;  // where the bdSeq counter lives ("" = memory only)
  std::string log_level = "info";
  EdgeConfig edge;
  // The identity DCMD requests go to the management API as (edge.commands).
  std::string command_username;
  std::string command_password;
  std::string command_password_file;
};

struct SparkplugCommandLine {
  SparkplugOptions options;
  std::string help_text;  // set for --help
  bool version = false;   // --version
};

Status applySparkplugKey(SparkplugOptions& options, const std::string& key,
                         const std::string& value);
Result<SparkplugCommandLine> parseSparkplugCommandLine(int argc, const char* const* argv);

// The MQTT options of the edge node's connection (without its will) and of the command
// identity's connection.
MqttOptions edgeMqttOptions(const SparkplugOptions& options);
MqttOptions commandMqttOptions(const SparkplugOptions& options);

}  // namespace pharos::sparkplug
