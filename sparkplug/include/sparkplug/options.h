// Command line and config file of pharos-sparkplug. The config file has `key = value` lines
// in the anchor's style (packaging/etc/sparkplug.conf documents every key); each key is also
// a flag (`--group-id X`), and a flag wins over the file. Errors name the key or file line.
#pragma once

#include <string>
#include <vector>

#include "pharos/config_table.h"
#include "pharos/connection.h"
#include "pharos/mqtt_link.h"
#include "pharos/status.h"
#include "sparkplug/edge_node.h"

namespace pharos::sparkplug {

struct SparkplugSettings {
  ConnectionSettings connection = connectionAs("sparkplug");
  std::string client_id;  // default: pharos-sparkplug-<edge_node_id>
  std::string data_dir;   // where the bdSeq counter lives ("" = memory only)
  std::string log_level = "info";
  EdgeConfig edge;
  // The identity DCMD requests go to the management API as (edge.commands).
  std::string command_username;
  std::string command_password;
  std::string command_password_file;
};

struct SparkplugCommandLine {
  SparkplugSettings options;
  std::string help_text;  // set for --help
  bool version = false;   // --version
};

// Declares every key of pharos-sparkplug (the shared connection keys included).
void addSparkplugKeys(ConfigTable& table, SparkplugSettings* settings);
Status applySparkplugKey(SparkplugSettings& options, const std::string& key,
                         const std::string& value);
Result<SparkplugCommandLine> parseSparkplugCommandLine(int argc, const char* const* argv);

// The MQTT options of the edge node's connection (without its will) and of the command
// identity's connection.
MqttOptions edgeMqttOptions(const SparkplugSettings& options);
MqttOptions commandMqttOptions(const SparkplugSettings& options);

}  // namespace pharos::sparkplug
