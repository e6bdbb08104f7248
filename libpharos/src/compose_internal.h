// Internals of the compose model shared by the compose_*.cpp files: a plain YAML tree
// (built by the one yaml-cpp adapter, compose_yaml.cpp, with aliases and merge keys already
// expanded) and typed readers that turn its nodes into values or path-naming errors.
// Pure functions over values: thread-safe.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pharos/compose.h"

namespace pharos::compose_detail {

struct YamlEntry;

struct YamlNode {
  enum class Kind { kNull, kScalar, kSequence, kMap };
  Kind kind = Kind::kNull;
  std::string text;     // kScalar
  bool quoted = false;  // kScalar written quoted or with an explicit tag
  int line = 0;         // 1-based; 0 = unknown
  int column = 0;
  std::vector<YamlNode> items;     // kSequence
  std::vector<YamlEntry> entries;  // kMap, in file order, keys unique

  bool isNull() const { return kind == Kind::kNull; }
  bool isScalar() const { return kind == Kind::kScalar; }
  bool isSequence() const { return kind == Kind::kSequence; }
  bool isMap() const { return kind == Kind::kMap; }
  const YamlNode* find(std::string_view key) const;
};

struct YamlEntry {
  std::string key;
  int line = 0;
  int column = 0;
  YamlNode value;
};

// compose_yaml.cpp — the yaml-cpp adapter. Parses one document (size checked by the
// caller), expands aliases and `<<` merge keys into copies while counting nodes and scalar
// bytes against `limits`, refuses duplicate and non-scalar keys and nesting beyond
// limits.max_depth. `*expanded_bytes` receives the scalar bytes of the tree.
Result<YamlNode> loadYaml(std::string_view text, const ComposeLimits& limits,
                          size_t* expanded_bytes);

// compose_interpolate.cpp — interpolates every scalar value (not keys) of the tree in
// place, skipping `x-` extension fields. Missing variables become warnings (one per name).
Status interpolateTree(YamlNode& root, const Variables& vars, const ComposeLimits& limits,
                       size_t expanded_bytes, std::vector<std::string>& warnings);
// Interpolation bounded to `max_output` bytes (too_large beyond).
Result<std::string> interpolateBounded(std::string_view text, const Variables& vars,
                                       std::vector<std::string>* missing, size_t max_output);

// An invalid_argument Status "path: reason" carrying the path and the node's position.
Status errorAt(const YamlNode& node, const std::string& path, std::string_view reason);
std::string joinPath(const std::string& path, std::string_view key);
std::string indexPath(const std::string& path, size_t index);

// Typed readers (compose_values.cpp). Scalars are read as written, so `80`, `true` and
// `"80"` are all accepted where a string is expected.
Result<std::string> readString(const YamlNode& node, const std::string& path);
Result<bool> readBool(const YamlNode& node, const std::string& path);
Result<int64_t> readInt(const YamlNode& node, const std::string& path);
Result<double> readDouble(const YamlNode& node, const std::string& path);
Result<Duration> readDuration(const YamlNode& node, const std::string& path);
Result<int64_t> readByteSize(const YamlNode& node, const std::string& path);
// A list of scalars; with `allow_single`, a lone scalar is a one-element list.
Result<std::vector<std::string>> readStringList(const YamlNode& node, const std::string& path,
                                                bool allow_single);
// A string (shell-split) or a list of strings.
Result<std::vector<std::string>> readCommand(const YamlNode& node, const std::string& path);
// How docker-compose 1.29's loader (PyYAML, YAML 1.1) types a plain (unquoted, untagged,
// not interpolated) scalar: `yes`/`on`/`true` are booleans, `0x10`, `1_000` integers, ...
enum class PlainType { kString, kBool, kInt, kFloat };
PlainType plainType(const YamlNode& node);
// What a map of scalars accepts as values, after compose 1.29's schema ("list_or_dict" and
// the driver_opts/options maps): strings and numbers everywhere; a boolean is refused
// ("contains true, which is an invalid type, ..."), except in labels, where compose 1.29
// writes Python's "True"/"False".
enum class MapValues { kNoBool, kBoolAsPython };
// A map of scalars (null values become `null_value`) or a list of "key<sep>value" items
// (an item without the separator gets `null_value`). Duplicate keys are refused. List items
// must be strings (compose 1.29: an unquoted number or boolean item is refused).
Result<std::map<std::string, std::string>> readKeyValues(const YamlNode& node,
                                                         const std::string& path, char separator,
                                                         const std::string& null_value = "",
                                                         MapValues values = MapValues::kNoBool);
// Ok unless `node` is a plain boolean, which compose 1.29 refuses where a string, number or
// null is expected; the error names the path and says to quote the value.
Status refuseBool(const YamlNode& node, const std::string& path);
// Ok unless `node` is a plain number or boolean (compose 1.29: list items must be strings).
Status requireStringItem(const YamlNode& node, const std::string& path);
// Ok when `node` is a map; error when another kind.
Status requireMap(const YamlNode& node, const std::string& path);
// Ok when every key of the map is in `allowed` (or starts with "x-").
Status checkKeys(const YamlNode& node, const std::string& path,
                 std::initializer_list<std::string_view> allowed);

// compose_service.cpp — reads one service's keys onto `service` (which may hold the
// values of an `extends` base). `context` gives the declared networks and volumes and the
// service names.
struct ParseContext {
  const Variables* vars = nullptr;
  std::set<std::string> service_names;
  const std::map<std::string, Network>* networks = nullptr;
  const std::map<std::string, Volume>* volumes = nullptr;
  std::vector<std::string>* warnings = nullptr;
};
Status readService(const YamlNode& node, const std::string& path, const ParseContext& context,
                   Service& service);
// compose_service_more.cpp (and compose_mounts.cpp) — the keys with their own syntax.
Status readPorts(const YamlNode& node, const std::string& path, std::vector<PortMapping>& out);
Status readVolumeMounts(const YamlNode& node, const std::string& path, const ParseContext& context,
                        std::vector<VolumeMount>& out);
Status readHealthcheck(const YamlNode& node, const std::string& path, Healthcheck& out);
Status readDeploy(const YamlNode& node, const std::string& path, const ParseContext& context,
                  Service& service);
Status readServiceNetworks(const YamlNode& node, const std::string& path,
                           const ParseContext& context, std::map<std::string, ServiceNetwork>& out);
Status readDependsOn(const YamlNode& node, const std::string& path, const ParseContext& context,
                     std::map<std::string, Dependency>& out);
Status readDevices(const YamlNode& node, const std::string& path, std::vector<DeviceMapping>& out);
Status readUlimits(const YamlNode& node, const std::string& path,
                   std::map<std::string, Ulimit>& out);
Status readExtraHosts(const YamlNode& node, const std::string& path, std::vector<ExtraHost>& out);
Result<RestartPolicy> parseRestart(const YamlNode& node, const std::string& path);
bool isValidIp(std::string_view text);
// Docker's rule for container, network and volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
bool validResourceName(std::string_view name);

// compose_resources.cpp — the top-level networks: and volumes: mappings.
Status readNetworks(const YamlNode& node, std::map<std::string, Network>& out);
Status readVolumes(const YamlNode& node, std::map<std::string, Volume>& out);

}  // namespace pharos::compose_detail
