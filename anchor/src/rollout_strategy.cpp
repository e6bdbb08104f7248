// Rollout strategies (rollout_plan.h): parsing with field-named errors, update windows, and
// the JSON form the anchor stores. Pure functions.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <set>

#include "anchor/rollout_plan.h"
#include "pharos/ids.h"

namespace pharos::anchor {
namespace {

constexpr std::array<const char*, 7> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr int64_t kMaxDurationMs = int64_t{7} * 24 * 3600 * 1000;  // a week
constexpr size_t kMaxWaves = 100;
constexpr size_t kMaxWaveNodes = 10000;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "10%", "2.5%", "0.25%" -> basis points; nullopt when `text` is not a share.
std::optional<int> parseShare(const std::string& text, std::string& error) {
  if (text.empty() || text.back() != '%') return std::nullopt;
  std::string num = text.substr(0, text.size() - 1);
  size_t dot = num.find('.');
  std::string whole = num.substr(0, dot);
  std::string frac = dot == std::string::npos ? "" : num.substr(dot + 1);
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 3 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(whole) || (dot != std::string::npos && (!digits(frac) || frac.size() > 2))) {
    error = "'" + text + "' is not a share (a percentage like 10% or 2.5%)";
    return 0;
  }
  while (frac.size() < 2) frac += '0';
  int bp = std::stoi(whole) * 100 + std::stoi(frac);
  if (bp <= 0 || bp > kWholeShare) {
    error = "share " + text + " is outside 0% (exclusive) … 100%";
    return 0;
  }
  return bp;
}

// One wave entry: a node id or a share. Appends to `step`.
Status addWaveItem(const Json& item, const std::string& path, WaveStep& step,
                   const std::function<bool(const std::string&)>& known_node) {
  if (!item.is_string()) {
    return Status::invalidArgument(path + ": must be a node id or a share like \"10%\"");
  }
  std::string text = item.get<std::string>();
  std::string error;
  if (auto share = parseShare(text, error)) {
    if (!error.empty()) return Status::invalidArgument(path + ": " + error);
    if (step.share != 0) return Status::invalidArgument(path + ": a wave has at most one share");
    step.share = *share;
    return Status::ok();
  }
  if (!isValidId(IdKind::kNode, text)) {
    return Status::invalidArgument(path + ": '" + text + "' is neither a node id nor a share");
  }
  if (known_node && !known_node(text)) {
    return Status::invalidArgument(path + ": unknown node '" + text + "'");
  }
  if (std::find(step.nodes.begin(), step.nodes.end(), text) != step.nodes.end()) {
    return Status::invalidArgument(path + ": node '" + text + "' is named twice");
  }
  if (step.nodes.size() >= kMaxWaveNodes) {
    return Status::invalidArgument(path + ": more than 10000 nodes in one wave");
  }
  step.nodes.push_back(text);
  return Status::ok();
}

Result<std::vector<WaveStep>> parseWaves(const Json& waves, const std::string& path,
                                         const std::function<bool(const std::string&)>& known) {
  if (!waves.is_array()) return Status::invalidArgument(path + ": must be an array");
  if (waves.empty()) return Status::invalidArgument(path + ": needs at least one wave");
  if (waves.size() > kMaxWaves) return Status::invalidArgument(path + ": more than 100 waves");
  std::vector<WaveStep> out;
  std::set<std::string> named;
  int last_share = 0;
  for (size_t i = 0; i < waves.size(); ++i) {
    std::string p = path + "[" + std::to_string(i) + "]";
    WaveStep step;
    if (waves[i].is_array()) {
      if (waves[i].empty()) return Status::invalidArgument(p + ": an empty wave");
      for (size_t k = 0; k < waves[i].size(); ++k) {
        PHAROS_RETURN_IF_ERROR(
            addWaveItem(waves[i][k], p + "[" + std::to_string(k) + "]", step, known));
      }
    } else {
      PHAROS_RETURN_IF_ERROR(addWaveItem(waves[i], p, step, known));
    }
    for (const std::string& n : step.nodes) {
      if (!named.insert(n).second) {
        return Status::invalidArgument(p + ": node '" + n + "' is already in an earlier wave");
      }
    }
    if (step.share != 0 && step.share <= last_share) {
      return Status::invalidArgument(p + ": shares must grow from wave to wave");
    }
    if (last_share == kWholeShare) {
      return Status::invalidArgument(p + ": no wave can follow the whole target (100%)");
    }
    last_share = std::max(last_share, step.share);
    out.push_back(std::move(step));
  }
  if (last_share != kWholeShare) out.push_back(WaveStep{{}, kWholeShare});
  return out;
}

// Seconds as an integer, or "90s" / "15m" / "1h"; 0 allowed when `allow_zero`.
Result<int64_t> parseDuration(const Json& v, const std::string& path, bool allow_zero) {
  int64_t ms = -1;
  if (v.is_number_integer()) {
    int64_t s = v.get<int64_t>();
    if (s >= 0 && s <= kMaxDurationMs / 1000) ms = s * 1000;
    if (s < 0) return Status::invalidArgument(path + ": must not be negative");
  } else if (v.is_string()) {
    std::string t = v.get<std::string>();
    int64_t n = 0;
    const char* end = t.data() + t.size();
    auto [ptr, ec] = std::from_chars(t.data(), end, n);
    if (ec == std::errc() && ptr + 1 == end && n >= 0) {
      int64_t unit = *ptr == 's' ? 1000 : *ptr == 'm' ? 60'000 : *ptr == 'h' ? 3'600'000 : 0;
      if (unit != 0 && n <= kMaxDurationMs / unit) ms = n * unit;
    }
    if (!t.empty() && t[0] == '-') return Status::invalidArgument(path + ": must not be negative");
  } else {
    return Status::invalidArgument(path + ": must be seconds or a duration like \"90s\", \"15m\"");
  }
  if (ms < 0) {
    return Status::invalidArgument(path +
                                   ": must be seconds or a duration like \"90s\", \"15m\", "
                                   "\"1h\", at most a week");
  }
  if (ms == 0 && !allow_zero) return Status::invalidArgument(path + ": must be above zero");
  return ms;
}

// "22:00" -> 1320; "24:00" only as an end.
int parseClock(const std::string& t, bool end) {
  if (t.size() != 5 || t[2] != ':') return -1;
  for (int i : {0, 1, 3, 4}) {
    if (t[i] < '0' || t[i] > '9') return -1;
  }
  int h = (t[0] - '0') * 10 + (t[1] - '0');
  int m = (t[3] - '0') * 10 + (t[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && (m != 0 || !end))) return -1;
  return h * 60 + m;
}

int dayIndex(const std::string& d) {
  for (size_t i = 0; i < kDays.size(); ++i) {
    if (d == kDays[i]) return static_cast<int>(i);
  }
  return -1;
}

Result<UpdateWindow> parseWindow(const Json& v, const std::string& path) {
  const std::string want =
      ": must be like \"Mon-Fri 22:00-06:00\", \"Sat,Sun 00:00-24:00\" or "
      "\"daily 01:00-03:00\"";
  if (!v.is_string()) return Status::invalidArgument(path + want);
  std::string text = lower(v.get<std::string>());
  size_t space = text.find(' ');
  if (space == std::string::npos) return Status::invalidArgument(path + want);
  std::string days = text.substr(0, space);
  std::string times = text.substr(space + 1);
  UpdateWindow w;
  if (days == "daily") {
    w.days = 0x7f;
  } else {
    size_t start = 0;
    while (start <= days.size()) {
      size_t comma = days.find(',', start);
      std::string part =
          days.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      size_t dash = part.find('-');
      int a = dayIndex(part.substr(0, dash));
      int b = dash == std::string::npos ? a : dayIndex(part.substr(dash + 1));
      if (a < 0 || b < 0) {
        return Status::invalidArgument(path + ": '" + part + "' is not a day or day range" +
                                       " (Mon … Sun)");
      }
      for (int d = a;; d = (d + 1) % 7) {
        w.days |= 1u << d;
        if (d == b) break;
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  size_t dash = times.find('-');
  if (dash == std::string::npos) return Status::invalidArgument(path + want);
  w.start_minute = parseClock(times.substr(0, dash), false);
  w.end_minute = parseClock(times.substr(dash + 1), true);
  if (w.start_minute < 0 || w.end_minute < 0) {
    return Status::invalidArgument(path + ": '" + times + "' is not a time range like 22:00-06:00");
  }
  if (w.start_minute == w.end_minute) {
    return Status::invalidArgument(path + ": the window '" + times +
                                   "' never opens (start equals end)");
  }
  return w;
}

std::string clockText(int minute) {
  std::string out(5, '0');
  out[0] = static_cast<char>('0' + minute / 600);
  out[1] = static_cast<char>('0' + minute / 60 % 10);
  out[2] = ':';
  out[3] = static_cast<char>('0' + minute % 60 / 10);
  out[4] = static_cast<char>('0' + minute % 10);
  return out;
}

std::string shareText(int bp) {
  std::string out = std::to_string(bp / 100);
  if (bp % 100 != 0) {
    out += "." + std::to_string(bp % 100 / 10);
    if (bp % 10 != 0) out += std::to_string(bp % 10);
  }
  return out + "%";
}

}  // namespace

std::string windowText(const UpdateWindow& w) {
  std::string days;
  if (w.days == 0x7f) {
    days = "daily";
  } else {
    for (size_t d = 0; d < kDays.size(); ++d) {
      if (!(w.days & (1u << d))) continue;
      std::string name = kDays[d];
      name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
      days += (days.empty() ? "" : ",") + name;
    }
  }
  return days + " " + clockText(w.start_minute) + "-" + clockText(w.end_minute);
}

bool windowOpen(const UpdateWindow& w, LocalTime at) {
  auto day = [&w](int d) { return (w.days & (1u << ((d + 7) % 7))) != 0; };
  if (w.start_minute < w.end_minute) {
    return day(at.weekday) && at.minute >= w.start_minute && at.minute < w.end_minute;
  }
  // Past midnight: the evening part on a listed day, the morning part after a listed day.
  return (day(at.weekday) && at.minute >= w.start_minute) ||
         (day(at.weekday - 1) && at.minute < w.end_minute);
}

Result<RolloutStrategy> parseRolloutStrategy(
    const Json& json, const std::string& path,
    const std::function<bool(const std::string&)>& known_node) {
  if (!json.is_object()) return Status::invalidArgument(path + ": must be an object");
  RolloutStrategy out;
  for (const auto& [key, value] : json.items()) {
    if (key != "waves" && key != "gate" && key != "on_failure" && key != "window") {
      return Status::invalidArgument(path + "." + key +
                                     ": unknown field (waves, gate, on_failure, window)");
    }
  }
  if (!json.contains("waves")) return Status::invalidArgument(path + ".waves: is required");
  auto waves = parseWaves(json["waves"], path + ".waves", known_node);
  if (!waves) return waves.status();
  out.waves = std::move(*waves);
  if (json.contains("gate") && !json["gate"].is_null()) {
    const Json& gate = json["gate"];
    std::string gp = path + ".gate";
    if (!gate.is_object()) return Status::invalidArgument(gp + ": must be an object");
    for (const auto& [key, value] : gate.items()) {
      if (key == "soak") {
        auto ms = parseDuration(value, gp + ".soak", true);
        if (!ms) return ms.status();
        out.soak_ms = *ms;
      } else if (key == "timeout") {
        auto ms = parseDuration(value, gp + ".timeout", false);
        if (!ms) return ms.status();
        out.timeout_ms = *ms;
      } else if (key == "max_failed") {
        if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
            value.get<int64_t>() > 1'000'000) {
          return Status::invalidArgument(gp + ".max_failed: must be an integer 0 … 1000000");
        }
        out.max_failed = static_cast<int>(value.get<int64_t>());
      } else {
        return Status::invalidArgument(gp + "." + key +
                                       ": unknown field (soak, max_failed, timeout)");
      }
    }
    if (out.timeout_ms <= out.soak_ms) {
      return Status::invalidArgument(gp + ".timeout: must be longer than the soak (" +
                                     std::to_string(out.soak_ms / 1000) + " s)");
    }
  }
  if (json.contains("on_failure") && !json["on_failure"].is_null()) {
    const Json& f = json["on_failure"];
    if (f == "pause") {
      out.on_failure = OnFailure::kPause;
    } else if (f == "rollback") {
      out.on_failure = OnFailure::kRollback;
    } else {
      return Status::invalidArgument(path + ".on_failure: must be \"pause\" or \"rollback\"");
    }
  }
  if (json.contains("window") && !json["window"].is_null()) {
    auto w = parseWindow(json["window"], path + ".window");
    if (!w) return w.status();
    out.window = *w;
  }
  return out;
}

Json toJson(const RolloutStrategy& s) {
  Json waves = Json::array();
  for (const WaveStep& step : s.waves) {
    Json items = Json::array();
    for (const std::string& n : step.nodes) items.push_back(n);
    if (step.share != 0) items.push_back(shareText(step.share));
    waves.push_back(items.size() == 1 ? items[0] : items);
  }
  Json out{{"waves", waves},
           {"gate",
            {{"soak", s.soak_ms / 1000},
             {"max_failed", s.max_failed},
             {"timeout", s.timeout_ms / 1000}}},
           {"on_failure", s.on_failure == OnFailure::kPause ? "pause" : "rollback"}};
  if (s.window) out["window"] = windowText(*s.window);
  return out;
}

}  // namespace pharos::anchor
