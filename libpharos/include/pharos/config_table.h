// One program's settings vocabulary as a table of keys, after fluent-bit's config maps: each
// key has a name, older spellings still accepted (aliases), a help line, the default shown in
// `--help`, and a setter that parses the value text into the program's settings struct. The
// one table reads `key = value` files, declares the command-line flags (`--key-name`, one
// per key and alias) on a CLI11 app, and writes config files back (writeConfig), so a key
// renamed in the table is renamed everywhere at once. docs/configuration.md lists every
// program's keys. An older spelling (alias) still works and logs a deprecation warning, once
// per alias and table.
//
// File syntax: one `key = value` per line; `#` or `;` starts a comment line; blank lines
// are ignored; spaces around key and value are dropped and one pair of matching quotes
// around the value too; '-' and '_' are the same in a key. A later line wins over an
// earlier one (repeatable keys such as `label` add up instead).
//
// A table holds setters bound to one settings struct: build it over the struct, use it, drop
// it. Thread-compatible.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pharos/status.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace pharos {

class ConfigTable {
 public:
  using Setter = std::function<Status(const std::string& value)>;
  using Getter = std::function<std::string()>;
  enum class Kind {
    kValue,       // --name VALUE
    kSwitch,      // a boolean: --name alone means true (--name=false also works)
    kRepeatable,  // each occurrence adds to a list (--name A --name B)
  };
  struct Key {
    std::string name;                  // canonical spelling, snake_case
    std::vector<std::string> aliases;  // older spellings, still accepted in files and flags
    std::string help;
    std::string default_text;  // shown in --help; "" = none
    Kind kind = Kind::kValue;
    Setter set;
    Getter get;              // the current value as file text (writeConfig); may be empty
    std::string short_flag;  // "-c", "-l": a one-letter flag besides --name ("" = none)
  };

  // Adds a key (names use '_'; the flag is --name-with-dashes). Returns it for aliases etc.
  Key& add(std::string name, std::string help, Setter set, Kind kind = Kind::kValue);
  // Typed keys over a field: the default shown in --help is the field's value now.
  Key& text(std::string name, std::string* field, std::string help);
  Key& boolean(std::string name, bool* field, std::string help);
  Key& integer(std::string name, int* field, int lo, int hi, std::string help);
  // Seconds as a number or a duration ("10", "10s", "1m"), between lo and hi seconds.
  Key& seconds(std::string name, std::chrono::seconds* field, int64_t lo, int64_t hi,
               std::string help);
  // Milliseconds as a number or a duration ("250", "250ms", "2s"), at most hi ms.
  Key& milliseconds(std::string name, std::chrono::milliseconds* field, int64_t hi,
                    std::string help);
  // One of `choices`.
  Key& choice(std::string name, std::string* field, std::vector<std::string> choices,
              std::string help);

  // The key called `name` (canonical or alias, '-' or '_'), or nullptr.
  const Key* find(std::string_view name) const;
  const std::deque<Key>& keys() const { return keys_; }

  // Applies one setting. Errors name the key; an unknown key is "unknown key 'x'". An alias
  // logs "<origin>: 'old' is deprecated, use 'new'" the first time it is used.
  Status apply(std::string_view key, std::string_view value,
               std::string_view origin = "config") const;
  // The aliases used so far (canonical spelling of the alias), for tests and messages.
  const std::set<std::string>& deprecatedUsed() const { return deprecated_used_; }
  // The canonical names of the keys applied so far (by apply, a file or the flags).
  const std::set<std::string>& applied() const { return applied_; }
  // Applies the text of a config file; errors are "origin:line: message". Keys whose
  // canonical name is in `skip` are passed over (the command line set them).
  Status applyText(std::string_view text, const std::string& origin,
                   const std::set<std::string>& skip = {}) const;
  // Reads and applies a file; a file that cannot be read is invalid_argument.
  Status applyFile(const std::string& path, const std::set<std::string>& skip = {}) const;

  // Declares every key as a CLI11 option (--name and --alias, in `group` when given) whose
  // values this table collects; applyFlags() applies the ones given after app.parse(). The
  // table must outlive the parse.
  void declareFlags(CLI::App& app, const std::string& group = "");
  // Applies the flags given on the command line, in table order; returns the canonical
  // names set, for applyText's `skip`. Errors are "--flag-name: message".
  Result<std::set<std::string>> applyFlags() const;

  // Parses argv with `app` (declareFlags called on it) and applies the flags given; returns
  // their canonical names, as applyFlags. `--help` returns ok with *help_text set (and no
  // names); a parse error is invalid_argument. CLI11's exceptions stop here.
  Result<std::set<std::string>> parseCommandLine(CLI::App& app, int argc, const char* const* argv,
                                                 std::string* help_text) const;

  // `key = value` lines for `names` (canonical names, in that order) from the keys' getters;
  // a name that is not in the table, or has no getter, is a programming error (aborts). A
  // key whose value is empty is left out.
  std::string writeConfig(const std::vector<std::string>& names) const;

  // The flag spelling of a key name: "broker_url" -> "--broker-url".
  static std::string flagName(std::string_view name);

 private:
  // declareFlags: one option per spelling of a key (aliases hidden from --help), with the
  // values CLI11 collected for it.
  struct FlagSlot {
    size_t key = 0;
    std::string spelling;
    std::vector<std::string> values;
    CLI::Option* option = nullptr;
  };
  std::deque<Key> keys_;  // deques: add() and declareFlags hand out stable addresses
  std::deque<FlagSlot> slots_;
  mutable std::set<std::string> deprecated_used_;
  mutable std::set<std::string> applied_;
};

// The first line of a file without its line ending and surrounding blanks (password files).
// `what` names the setting in errors; an empty first line is an error.
Result<std::string> readFirstLine(const std::string& path, std::string_view what);

}  // namespace pharos
