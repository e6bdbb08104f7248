// Renderers of API results (see render.h). Pure functions; tolerant of missing fields.
#include "cli/render.h"

#include <fmt/format.h>

#include <string>

namespace pharos::cli {
namespace field {

std::string str(const Json& object, const char* key, const std::string& fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    return s.empty() ? fallback : s;
  }
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  return dumpJson(*it);
}

int64_t num(const Json& object, const char* key, int64_t fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return fallback;
  if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
  return it->get<int64_t>();
}

std::string state(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object()) return str(value, "state");
  return "-";
}

std::string target(const Json& object) {
  if (!object.is_object()) return "-";
  auto it = object.find("target");
  if (it != object.end() && it->is_object()) {
    if (it->contains("node")) return "node/" + str(*it, "node");
    if (it->contains("group")) return "group/" + str(*it, "group");
    if (it->contains("kind")) return str(*it, "kind") + "/" + str(*it, "name");
  }
  std::string kind = str(object, "target_kind", "");
  std::string name = str(object, "target", "");
  if (!kind.empty() && !name.empty()) return kind + "/" + name;
  return name.empty() ? "-" : name;
}

std::string labels(const Json& value) {
  if (!value.is_object() || value.empty()) return "-";
  std::string out;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (!out.empty()) out += ',';
    out += it.key();
    out += '=';
    out += it->is_string() ? it->get<std::string>() : dumpJson(*it);
  }
  return out;
}

std::string list(const Json& value, size_t max_items) {
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (!value.is_array() || value.empty()) return "-";
  std::string out;
  size_t n = 0;
  for (const auto& v : value) {
    if (n == max_items) {
      out += fmt::format(",… (+{})", value.size() - n);
      break;
    }
    if (!out.empty()) out += ',';
    out += v.is_string() ? v.get<std::string>() : str(v, "name");
    ++n;
  }
  return out;
}

const Json& items(const Json& result, std::initializer_list<const char*> keys) {
  static const Json kEmpty = Json::array();  // NOLINT: immutable constant
  if (result.is_array()) return result;
  if (!result.is_object()) return kEmpty;
  for (const char* key : keys) {
    auto it = result.find(key);
    if (it != result.end() && it->is_array()) return *it;
  }
  return kEmpty;
}

}  // namespace field

namespace {

using field::num;
using field::str;

std::string count(const Json& value) {
  if (value.is_array()) return std::to_string(value.size());
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  return "0";
}

std::string moreHint(const Json& result) {
  std::string next = str(result, "next", "");
  if (next.empty()) return "";
  return fmt::format("(more results: add --cursor {})\n", next);
}

Cell stateCell(const std::string& s) { return Cell(s, stateColor(s)); }

const Json& get(const Json& object, const char* key) {
  static const Json kNull;  // NOLINT: immutable constant
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string section(const Style& style, const std::string& title) {
  return "\n" + paint(style, Color::kBold, title) + "\n";
}

}  // namespace

const Json& agentConfig(const Json& result) {
  const Json& config = get(result, "config");
  return config.is_null() ? get(result, "agent_config") : config;
}

std::string renderNodeList(const Json& result, const Style& style) {
  const Json& nodes = field::items(result, {"nodes", "items"});
  if (nodes.empty()) return "No nodes.\n";
  std::vector<std::vector<Cell>> rows;
  for (const auto& n : nodes) {
    const Json& health = get(n, "health");
    std::string h = field::state(health);
    int64_t since = health.is_object() ? num(health, "since") : num(n, "since");
    rows.push_back({str(n, "name"), stateCell(h), age(style, since),
                    field::labels(get(n, "labels")), field::list(get(n, "groups"))});
  }
  return renderTable(style, {"NAME", "HEALTH", "SINCE", "LABELS", "GROUPS"}, rows) +
         moreHint(result);
}

std::string renderNode(const Json& n, const Style& style) {
  const Json& health = get(n, "health");
  // The anchor sends health as a string plus health_detail {state, since, reason, session}.
  const Json& detail = get(n, "health_detail").is_object() ? get(n, "health_detail") : health;
  const Json& info = get(n, "info");
  std::string h = field::state(health);
  int64_t since = detail.is_object() ? num(detail, "since") : num(n, "since");
  std::vector<std::pair<std::string, std::string>> fields = {
      {"Name", str(n, "name")},
      {"Health", paint(style, stateColor(h), h)},
  };
  if (since > 0)
    fields.emplace_back("Since", fmt::format("{} ({} ago)", isoTime(since), age(style, since)));
  if (!str(detail, "reason", "").empty()) fields.emplace_back("Reason", str(detail, "reason"));
  if (n.contains("registration")) fields.emplace_back("Registration", str(n, "registration"));
  fields.emplace_back("Labels", field::labels(get(n, "labels")));
  fields.emplace_back("Groups", field::list(get(n, "groups"), 50));
  if (n.contains("effective_groups")) {
    fields.emplace_back("All groups", field::list(get(n, "effective_groups"), 50));
  }
  if (info.is_object() && !info.empty()) {
    fields.emplace_back("Hostname", str(info, "hostname"));
    fields.emplace_back("Agent", str(info, "agent_version"));
    fields.emplace_back("OS", fmt::format("{} {} (kernel {})", str(info, "os"), str(info, "arch"),
                                          str(info, "kernel")));
    fields.emplace_back(
        "Docker", fmt::format("{} (API {})", str(info, "docker_version"), str(info, "docker_api")));
    fields.emplace_back("CPUs / memory", fmt::format("{} / {}", str(info, "cpus"),
                                                     humanBytes(num(info, "memory_bytes"))));
    fields.emplace_back("Addresses", field::list(get(info, "addresses"), 4));
    fields.emplace_back("Broker", str(info, "broker"));
  } else if (n.contains("hostname")) {
    fields.emplace_back("Hostname", str(n, "hostname"));
  }
  std::string out = renderFields(style, fields);
  const Json& apps = field::items(n, {"apps"});
  out += section(style, "Apps");
  if (apps.empty()) {
    out += "  none\n";
  } else {
    std::vector<std::vector<Cell>> rows;
    for (const auto& a : apps) {
      if (a.is_string()) {
        rows.push_back({a.get<std::string>(), "-", "-", "-", "-"});
        continue;
      }
      const Json& reported = get(a, "reported");
      std::string phase = str(reported, "phase", str(a, "phase", "-"));
      std::string running_rev = str(reported, "revision", str(a, "revision"));
      rows.push_back({str(a, "name"), field::target(a), running_rev, stateCell(phase),
                      str(reported, "message", str(a, "message", ""))});
    }
    out += renderTable(style, {"APP", "TARGET", "REVISION", "PHASE", "MESSAGE"}, rows);
  }
  const Json& history = field::items(n, {"history"});
  if (!history.empty()) {
    out += section(style, "Health history");
    std::vector<std::vector<Cell>> rows;
    size_t first = history.size() > 10 ? history.size() - 10 : 0;
    for (size_t i = first; i < history.size(); ++i) {
      const Json& t = history[i];
      rows.push_back({isoTime(num(t, "ts")), stateCell(str(t, "state")), str(t, "reason", "")});
    }
    out += renderTable(style, {"TIME", "STATE", "REASON"}, rows);
  }
  return out;
}

std::string renderNodeAdded(const Json& result, const Style& style) {
  std::string name = str(result, "name", str(result, "node"));
  std::string out = fmt::format("{}: node {} enrolled", paint(style, Color::kGreen, "ok"), name);
  std::string user = str(result, "username", "");
  if (!user.empty()) out += fmt::format(" (broker user {})", user);
  out += "\n";
  const Json& config = agentConfig(result);
  if (!config.is_null()) {
    out += section(style,
                   "Agent configuration (install it on the device as /etc/pharos/agent.conf, "
                   "mode 0600; or use -o FILE):");
    out += config.is_string() ? config.get<std::string>() : config.dump(2) + "\n";
    if (!out.empty() && out.back() != '\n') out += '\n';
  }
  return out;
}

std::string renderGroupList(const Json& result, const Style& style) {
  const Json& groups = field::items(result, {"groups", "items"});
  if (groups.empty()) return "No groups.\n";
  std::vector<std::vector<Cell>> rows;
  for (const auto& g : groups) {
    std::string parent = str(g, "parent", "");
    if (parent.empty()) parent = field::list(get(g, "parents"));
    std::string nodes = g.contains("node_count") ? str(g, "node_count") : count(get(g, "nodes"));
    rows.push_back({str(g, "name"), parent, nodes, count(get(g, "groups")), count(get(g, "apps"))});
  }
  return renderTable(style, {"NAME", "PARENT", "NODES", "GROUPS", "APPS"}, rows) + moreHint(result);
}

std::string renderGroup(const Json& g, const Style& style) {
  auto decoded = decodeGroupGetResult(g);
  std::vector<std::pair<std::string, std::string>> fields = {
      {"Name", str(g, "name")},
      {"Parents", field::list(get(g, "parents"), 50)},
  };
  if (decoded && decoded->has_tree) fields.emplace_back("Ancestors", renderAncestors(*decoded));
  fields.emplace_back(
      "Nodes", fmt::format("{}  {}", count(get(g, "nodes")), field::list(get(g, "nodes"), 20)));
  fields.emplace_back("Groups", field::list(get(g, "groups"), 50));
  fields.emplace_back("Apps", field::list(get(g, "apps"), 50));
  if (g.contains("effective_node_count")) {
    fields.emplace_back("All nodes", str(g, "effective_node_count") + " (with nested groups)");
  }
  std::string out = renderFields(style, fields);
  if (decoded) out += "\n" + renderGroupTree(*decoded, style);
  return out;
}

std::string rolloutCounts(const Json& r) {
  if (!r.is_object()) return "-";
  return fmt::format("{}/{} running", num(r, "running"), num(r, "total"));
}

std::string renderAppList(const Json& result, const Style& style) {
  const Json& apps = field::items(result, {"apps", "items"});
  if (apps.empty()) return "No apps.\n";
  std::vector<std::vector<Cell>> rows;
  for (const auto& a : apps) {
    std::string state = str(a, "state");
    const Json& rollout = get(a, "rollout");
    std::string progress = rolloutCounts(rollout);
    if (rollout.is_object() && num(rollout, "failed") > 0) {
      progress += fmt::format(", {} failed", num(rollout, "failed"));
    }
    rows.push_back(
        {str(a, "name"), field::target(a), str(a, "revision"), stateCell(state), progress});
  }
  return renderTable(style, {"NAME", "TARGET", "REVISION", "STATE", "ROLLOUT"}, rows) +
         moreHint(result);
}

std::string renderApp(const Json& a, const Style& style) {
  const Json& rollout = get(a, "rollout");
  std::vector<std::pair<std::string, std::string>> fields = {
      {"Name", str(a, "name")},
      {"Target", field::target(a)},
      {"Revision", str(a, "revision")},
      {"State", paint(style, stateColor(str(a, "state")), str(a, "state"))},
  };
  if (a.contains("updated")) fields.emplace_back("Updated", isoTime(num(a, "updated")));
  if (a.contains("variables")) fields.emplace_back("Variables", field::labels(get(a, "variables")));
  if (a.contains("secrets")) fields.emplace_back("Secrets", field::list(get(a, "secrets"), 50));
  if (rollout.is_object()) {
    fields.emplace_back(
        "Rollout",
        fmt::format("revision {}: {} total, {} running, {} applied, {} pending, {} "
                    "failed, {} not ready",
                    num(rollout, "revision"), num(rollout, "total"), num(rollout, "running"),
                    num(rollout, "applied"), num(rollout, "pending"), num(rollout, "failed"),
                    num(rollout, "notready")));
    const Json& staged = get(rollout, "staged");
    if (staged.is_object()) {
      std::string soak =
          num(staged, "soak_left_ms") > 0
              ? fmt::format(", soak {} s left", (num(staged, "soak_left_ms") + 999) / 1000)
              : "";
      std::string reason = str(staged, "reason", "");
      fields.emplace_back(
          "Staged",
          fmt::format("revision {} over {}: wave {} of {}, {}{}{}", num(staged, "revision"),
                      num(staged, "previous_revision"), num(staged, "wave"), num(staged, "waves"),
                      str(staged, "phase"), soak, reason.empty() ? "" : " (" + reason + ")"));
      std::string window = str(staged, "window", "");
      if (!window.empty()) {
        std::string zone = str(staged, "time_zone", "");
        fields.emplace_back("Window", zone.empty() ? window : window + " (" + zone + ")");
      }
    }
  }
  std::string out = renderFields(style, fields);
  // Per-node status: result.nodes, else the rollout's node list.
  const Json* nodes = &field::items(a, {"nodes", "status"});
  if (nodes->empty() && rollout.is_object()) nodes = &field::items(rollout, {"nodes"});
  out += section(style, "Nodes");
  if (nodes->empty()) {
    out += "  none\n";
    return out;
  }
  std::vector<std::vector<Cell>> rows;
  for (const auto& n : *nodes) {
    std::string status = str(n, "status", str(n, "phase"));
    std::string services = "-";
    const Json& svc = get(n, "services");
    if (svc.is_array() && !svc.empty()) {
      services.clear();
      for (const auto& s : svc) {
        if (!services.empty()) services += ' ';
        services += str(s, "name") + ":" + str(s, "state");
      }
    }
    rows.push_back({str(n, "node", str(n, "name")), stateCell(status), str(n, "revision"), services,
                    str(n, "message", "")});
  }
  // Rollout entries carry no revision or services: leave out columns that are all "-".
  std::vector<std::string> headers = {"NODE", "STATUS", "REVISION", "SERVICES", "MESSAGE"};
  for (size_t col : {size_t{3}, size_t{2}}) {
    bool empty = true;
    for (const auto& r : rows) empty = empty && r[col].text == "-";
    if (!empty) continue;
    headers.erase(headers.begin() + static_cast<std::ptrdiff_t>(col));
    for (auto& r : rows) r.erase(r.begin() + static_cast<std::ptrdiff_t>(col));
  }
  out += renderTable(style, headers, rows);
  return out;
}

// How a revision was rolled out (app.history's `rollout`): "plain", or "staged n1,50%,100%:
// rolled_back at wave 1 of 3 (reason)".
static Cell rolloutCell(const Json& r) {
  if (!r.is_object()) return Cell("-");
  if (str(r, "kind", "") != "staged") return Cell("plain");
  std::string phase = str(r, "phase", "?");
  std::string steps;
  for (const auto& s : field::items(r, {"steps"})) {
    if (s.is_string()) steps += (steps.empty() ? "" : ",") + s.get<std::string>();
  }
  std::string text = fmt::format("staged {}: {} at wave {} of {}", steps.empty() ? "-" : steps,
                                 phase, num(r, "wave"), num(r, "waves"));
  std::string reason = str(r, "reason", "");
  if (!reason.empty())
    text += " (" + (reason.size() > 120 ? reason.substr(0, 117) + "..." : reason) + ")";
  Color color = phase == "complete"                            ? Color::kGreen
                : phase == "rolled_back" || phase == "aborted" ? Color::kRed
                                                               : Color::kYellow;
  return Cell(text, color);
}

std::string renderAppHistory(const Json& result, const Style& style) {
  const Json& revs = field::items(result, {"revisions", "history", "items"});
  if (revs.empty()) return "No revisions.\n";
  std::vector<std::vector<Cell>> rows;
  for (const auto& r : revs) {
    std::string note = str(r, "note", "");
    if (note.empty() && num(r, "rollback_of", 0) > 0) {
      note = fmt::format("rollback to {}", num(r, "rollback_of"));
    }
    if (note.empty()) note = str(r, "change", "");
    if (get(r, "current").is_boolean() && get(r, "current").get<bool>()) note += " (current)";
    int64_t ts = num(r, "ts", num(r, "created", num(r, "deployed")));
    rows.push_back({str(r, "revision"), isoTime(ts), str(r, "user", str(r, "by")), field::target(r),
                    note, rolloutCell(get(r, "rollout"))});
  }
  return renderTable(style, {"REVISION", "DEPLOYED", "BY", "TARGET", "NOTE", "ROLLOUT"}, rows);
}

std::string renderEventLine(std::string_view node, const Json& e, const Style& style) {
  std::string n = node.empty() ? str(e, "node") : std::string(node);
  std::string kind = str(e, "kind");
  Color color = Color::kNone;
  if (kind.find("fail") != std::string::npos || kind.find("died") != std::string::npos ||
      kind == "crash_loop" || kind == "conflict" || kind == "bad_document") {
    color = Color::kRed;
  }
  std::string what = str(e, "app", "");
  if (!str(e, "service", "").empty()) what += "/" + str(e, "service");
  std::string msg = str(e, "message", "");
  std::string reason = str(e, "reason", "");
  if (msg.empty()) msg = reason;
  std::string line = fmt::format("{}  {}  {}  {}", isoTime(num(e, "ts")), n,
                                 paint(style, color, kind), what.empty() ? "-" : what);
  if (!msg.empty()) line += "  " + msg;
  return line + "\n";
}

std::string renderEvents(const Json& result, const Style& style) {
  const Json& events = field::items(result, {"events", "items"});
  if (events.empty()) return "No events.\n";
  std::vector<std::vector<Cell>> rows;
  for (const auto& e : events) {
    std::string kind = str(e, "kind");
    std::string msg = str(e, "message", "");
    if (msg.empty()) msg = str(e, "reason", "");
    rows.push_back({isoTime(num(e, "ts")), str(e, "node"),
                    Cell(kind, kind.find("fail") != std::string::npos ? Color::kRed : Color::kNone),
                    str(e, "app"), str(e, "service"), msg});
  }
  return renderTable(style, {"TIME", "NODE", "KIND", "APP", "SERVICE", "MESSAGE"}, rows) +
         moreHint(result);
}

std::string renderLogs(const Json& result) {
  if (result.is_string()) {
    std::string s = result.get<std::string>();
    if (!s.empty() && s.back() != '\n') s += '\n';
    return s;
  }
  if (result.is_object()) {
    for (const char* key : {"logs", "text"}) {
      auto it = result.find(key);
      if (it != result.end() && it->is_string()) return renderLogs(*it);
    }
  }
  const Json& lines = field::items(result, {"lines", "logs"});
  if (lines.empty()) return "";
  std::string out;
  for (const auto& l : lines) {
    if (l.is_string()) {
      out += l.get<std::string>();
    } else {
      out += str(l, "line", str(l, "text", ""));
    }
    if (out.empty() || out.back() != '\n') out += '\n';
  }
  return out;
}

std::string renderHealthLine(std::string_view node, const Json& health, const Style& style) {
  if (health.is_null() || (health.is_object() && health.empty())) {
    return fmt::format("{}  {}  {}\n", clockTime(style.now_ms), node,
                       paint(style, Color::kGray, "removed"));
  }
  std::string s = field::state(health);
  std::string reason = str(health, "reason", "");
  return fmt::format("{}  {}  {}{}\n", clockTime(num(health, "since", style.now_ms)), node,
                     paint(style, stateColor(s), s), reason.empty() ? "" : "  " + reason);
}

std::string renderError(const Status& status, std::string_view source_name) {
  std::string where;
  if (status.line() > 0) {
    where = fmt::format("{}:{}:{}: ", source_name.empty() ? "compose" : source_name, status.line(),
                        status.column());
  }
  return fmt::format("error: {}{} ({})\n", where, status.message(), codeName(status.code()));
}

}  // namespace pharos::cli
