// The site's time zone, in which staged rollouts' update windows are read (docs/rollouts.md,
// `site_time_zone` in docs/configuration.md). GCC 12 has no std::chrono::zoned_time, and
// setting TZ for the whole process would also move every log line's clock, so a named zone is
// read from the system's zoneinfo (a TZif file, RFC 8536: its transitions, then the POSIX TZ
// rule of its footer for instants past the last one). A default-constructed TimeZone is the
// process's own zone (localtime_r: TZ, else /etc/localtime), what the anchor used before a
// zone was configured.
//
// Loading reads one file; the conversions are pure. Immutable once built: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pharos/status.h"

namespace pharos::anchor {

class TimeZone {
 public:
  // The process's own zone, named by TZ or the zone /etc/localtime links to.
  TimeZone();

  // The IANA zone `name` ("Europe/Berlin", "UTC") from `zoneinfo_dir` (default: $TZDIR, else
  // /usr/share/zoneinfo). An unknown zone, a name that is not a zone name ("../x", "/etc/x")
  // or a file that is not TZif is invalid_argument naming the zone.
  static Result<TimeZone> load(const std::string& name, const std::string& zoneinfo_dir = "");
  // A zone from the bytes of a TZif file (version 1 to 4).
  static Result<TimeZone> fromTzif(const std::string& name, std::string_view bytes);
  // A zone from a POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3", "JST-9").
  static Result<TimeZone> fromPosixRule(const std::string& name, std::string_view rule);

  const std::string& name() const { return name_; }
  bool processLocal() const { return process_local_; }

  // Seconds east of UTC in effect at `unix_seconds`.
  int64_t utcOffset(int64_t unix_seconds) const;

  // A POSIX TZ rule: standard offset, and daylight saving time between two dates a year.
  struct RuleDate {
    char kind = 'M';  // 'J': day 1..365 without Feb 29; 'D': day 0..365; 'M': month.week.day
    int day = 0;      // J, D
    int month = 0, week = 0, weekday = 0;  // M: week 5 is the last; weekday 0 is Sunday
    int64_t time = 7200;                   // seconds after local midnight (may be negative)
  };
  struct Rule {
    int64_t std_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    int64_t dst_offset = 0;
    RuleDate start, end;
  };

 private:
  std::string name_;
  bool process_local_ = true;
  std::vector<int64_t> transitions_;      // Unix seconds, ascending
  std::vector<uint8_t> transition_type_;  // index into offsets_ per transition
  std::vector<int64_t> offsets_;          // per local time type
  std::optional<Rule> rule_;              // past the last transition
};

}  // namespace pharos::anchor
