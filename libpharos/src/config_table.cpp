// The key table behind every program's settings (config_table.h). CLI11's exceptions do not
// reach here: declareFlags only declares options; parsing is the caller's.
#include "pharos/config_table.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "pharos/compose.h"
#include "pharos/log.h"

namespace pharos {
namespace {

std::string trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    return s.substr(1, s.size() - 2);
  }
  return s;
}

// '-' and '_' are one character in a key; keys are lower case.
std::string normalKey(std::string_view key) {
  std::string k = trim(key);
  for (char& c : k) {
    c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return k;
}

Result<int64_t> wholeNumber(const std::string& v) {
  if (v.empty() || v.size() > 12 || !std::all_of(v.begin(), v.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    return Status::invalidArgument("not a number");
  }
  return std::strtoll(v.c_str(), nullptr, 10);
}

// A number of `unit` milliseconds, or a duration with its unit ("10s", "500ms", "1m").
Result<int64_t> durationMs(const std::string& v, int64_t unit_ms, const char* unit_name) {
  if (auto n = wholeNumber(v)) return *n * unit_ms;
  auto d = parseDuration(v);
  if (!d) {
    return Status::invalidArgument("'" + v + "' is not a duration (a number of " + unit_name +
                                   " or e.g. 10s, 500ms, 1m)");
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
}

}  // namespace

std::string ConfigTable::flagName(std::string_view name) {
  std::string f = "--" + std::string(name);
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

ConfigTable::Key& ConfigTable::add(std::string name, std::string help, Setter set, Kind kind) {
  Key& key = keys_.emplace_back();
  key.name = normalKey(name);
  key.help = std::move(help);
  key.set = std::move(set);
  key.kind = kind;
  return key;
}

ConfigTable::Key& ConfigTable::text(std::string name, std::string* field, std::string help) {
  Key& key = add(
      std::move(name), std::move(help),
      [field](const std::string& v) {
        *field = v;
        return Status::ok();
      },
      Kind::kValue);
  key.default_text = *field;
  key.get = [field] { return *field; };
  return key;
}

ConfigTable::Key& ConfigTable::boolean(std::string name, bool* field, std::string help) {
  Key& key = add(
      std::move(name), std::move(help),
      [field](const std::string& value) {
        std::string v = normalKey(value);
        if (v == "true" || v == "yes" || v == "1" || v == "on") {
          *field = true;
        } else if (v == "false" || v == "no" || v == "0" || v == "off") {
          *field = false;
        } else {
          return Status::invalidArgument("expected true or false, got '" + value + "'");
        }
        return Status::ok();
      },
      Kind::kSwitch);
  key.default_text = *field ? "true" : "false";
  key.get = [field] { return std::string(*field ? "true" : "false"); };
  return key;
}

ConfigTable::Key& ConfigTable::integer(std::string name, int* field, int lo, int hi,
                                       std::string help) {
  Key& key = add(std::move(name), std::move(help), [field, lo, hi](const std::string& v) {
    auto n = wholeNumber(v);
    if (!n || *n < lo || *n > hi) {
      return Status::invalidArgument("expected a number from " + std::to_string(lo) + " to " +
                                     std::to_string(hi) + ", got '" + v + "'");
    }
    *field = static_cast<int>(*n);
    return Status::ok();
  });
  key.default_text = std::to_string(*field);
  key.get = [field] { return std::to_string(*field); };
  return key;
}

ConfigTable::Key& ConfigTable::seconds(std::string name, std::chrono::seconds* field, int64_t lo,
                                       int64_t hi, std::string help) {
  Key& key = add(std::move(name), std::move(help), [field, lo, hi](const std::string& v) {
    auto ms = durationMs(v, 1000, "seconds");
    if (!ms) return ms.status();
    if (*ms < lo * 1000 || *ms > hi * 1000) {
      return Status::invalidArgument("must be from " + std::to_string(lo) + "s to " +
                                     std::to_string(hi) + "s, got '" + v + "'");
    }
    *field = std::chrono::seconds(*ms / 1000);
    return Status::ok();
  });
  key.default_text = std::to_string(field->count()) + "s";
  key.get = [field] { return std::to_string(field->count()) + "s"; };
  return key;
}

ConfigTable::Key& ConfigTable::milliseconds(std::string name, std::chrono::milliseconds* field,
                                            int64_t hi, std::string help) {
  Key& key = add(std::move(name), std::move(help), [field, hi](const std::string& v) {
    auto ms = durationMs(v, 1, "milliseconds");
    if (!ms) return ms.status();
    if (*ms > hi) {
      return Status::invalidArgument("must be at most " + std::to_string(hi) + "ms, got '" + v +
                                     "'");
    }
    *field = std::chrono::milliseconds(*ms);
    return Status::ok();
  });
  key.default_text = std::to_string(field->count()) + "ms";
  key.get = [field] { return std::to_string(field->count()) + "ms"; };
  return key;
}

ConfigTable::Key& ConfigTable::choice(std::string name, std::string* field,
                                      std::vector<std::string> choices, std::string help) {
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  Key& key = add(std::move(name), std::move(help) + " (" + list + ")",
                 [field, choices, list](const std::string& v) {
                   if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
                     return Status::invalidArgument("'" + v + "' is not one of " + list);
                   }
                   *field = v;
                   return Status::ok();
                 });
  key.default_text = *field;
  key.get = [field] { return *field; };
  return key;
}

const ConfigTable::Key* ConfigTable::find(std::string_view name) const {
  std::string k = normalKey(name);
  for (const Key& key : keys_) {
    if (key.name == k) return &key;
    for (const auto& alias : key.aliases) {
      if (normalKey(alias) == k) return &key;
    }
  }
  return nullptr;
}

Status ConfigTable::apply(std::string_view raw_key, std::string_view raw_value,
                          std::string_view origin) const {
  std::string spelling = normalKey(raw_key);
  const Key* key = find(spelling);
  if (key == nullptr) return Status::invalidArgument("unknown key '" + spelling + "'");
  if (spelling != key->name && deprecated_used_.insert(spelling).second) {
    spdlog::warn("{}: '{}' is deprecated, use '{}' (same meaning)", origin, spelling, key->name);
  }
  Status st = key->set(unquote(trim(raw_value)));
  if (!st.isOk()) return Status::invalidArgument(spelling + ": " + st.message());
  applied_.insert(key->name);
  return Status::ok();
}

Status ConfigTable::applyText(std::string_view text, const std::string& origin,
                              const std::set<std::string>& skip) const {
  std::istringstream in{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    std::string where = origin + ":" + std::to_string(number);
    auto eq = t.find('=');
    if (eq == std::string::npos) {
      return Status::invalidArgument(where + ": expected 'key = value', got '" + t + "'");
    }
    const Key* key = find(t.substr(0, eq));
    if (key != nullptr && skip.count(key->name) > 0) continue;  // the command line set it
    Status st = apply(t.substr(0, eq), t.substr(eq + 1), where);
    if (!st.isOk()) return Status::invalidArgument(where + ": " + st.message());
  }
  return Status::ok();
}

Status ConfigTable::applyFile(const std::string& path, const std::set<std::string>& skip) const {
  std::ifstream in(path);
  if (!in) return Status::invalidArgument("config: cannot read " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  return applyText(buf.str(), path, skip);
}

void ConfigTable::declareFlags(CLI::App& app, const std::string& group) {
  slots_.clear();
  for (size_t i = 0; i < keys_.size(); ++i) {
    const Key& key = keys_[i];
    std::vector<std::string> spellings{key.name};
    spellings.insert(spellings.end(), key.aliases.begin(), key.aliases.end());
    for (size_t s = 0; s < spellings.size(); ++s) {
      FlagSlot& slot = slots_.emplace_back();
      slot.key = i;
      slot.spelling = normalKey(spellings[s]);
      std::string names = flagName(slot.spelling);
      if (s == 0 && !key.short_flag.empty()) names = key.short_flag + "," + names;
      std::string help = key.help;
      if (!key.default_text.empty()) help += " [" + key.default_text + "]";
      if (key.kind == Kind::kSwitch) {
        slot.option = app.add_flag(names, slot.values, help);
      } else {
        slot.option = app.add_option(names, slot.values, help);
        if (key.kind == Kind::kValue)
          slot.option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
      }
      // An older spelling works but is not advertised.
      slot.option->group(s == 0 ? (group.empty() ? "Options" : group) : "");
    }
  }
}

Result<std::set<std::string>> ConfigTable::applyFlags() const {
  std::set<std::string> given;
  for (const FlagSlot& slot : slots_) {
    if (slot.option == nullptr || slot.option->count() == 0) continue;
    const Key& key = keys_[slot.key];
    std::vector<std::string> values = slot.values;
    if (key.kind == Kind::kSwitch && values.empty()) values.push_back("true");
    for (const std::string& v : values) {
      Status st =
          apply(slot.spelling, key.kind == Kind::kSwitch && v.empty() ? "true" : v, "command line");
      if (!st.isOk()) {
        std::string msg = st.message();
        auto colon = msg.find(": ");
        return Status::invalidArgument(flagName(slot.spelling) + ": " +
                                       (colon == std::string::npos ? msg : msg.substr(colon + 2)));
      }
    }
    given.insert(key.name);
  }
  return given;
}

Result<std::set<std::string>> ConfigTable::parseCommandLine(CLI::App& app, int argc,
                                                            const char* const* argv,
                                                            std::string* help_text) const {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    *help_text = app.help();
    return std::set<std::string>{};
  } catch (const CLI::ParseError& e) {
    return Status::invalidArgument(std::string("command line: ") + e.what());
  }
  return applyFlags();
}

std::string ConfigTable::writeConfig(const std::vector<std::string>& names) const {
  std::string out;
  for (const std::string& name : names) {
    const Key* key = find(name);
    if (key == nullptr || key->name != name || !key->get) {
      spdlog::critical("writeConfig: no readable key '{}' in the table", name);
      std::abort();
    }
    std::string value = key->get();
    if (!value.empty()) out += name + " = " + value + "\n";
  }
  return out;
}

Result<std::string> readFirstLine(const std::string& path, std::string_view what) {
  std::ifstream in(path);
  if (!in) return Status::invalidArgument(std::string(what) + ": cannot read " + path);
  std::string line;
  std::getline(in, line);
  line = trim(line);
  if (line.empty()) return Status::invalidArgument(std::string(what) + ": " + path + " is empty");
  return line;
}

}  // namespace pharos
