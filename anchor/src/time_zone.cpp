// Time zones from the system's zoneinfo (time_zone.h): the TZif reader (RFC 8536) and the
// POSIX TZ rules of its footer. Pure apart from load(), which reads one file.
#include "anchor/time_zone.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <regex>

namespace pharos::anchor {
namespace {

constexpr size_t kMaxTzifBytes = 1 << 20;
constexpr int64_t kMaxOffset = 26 * 3600;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t yearOfDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  return yoe + era * 400 + (mp >= 10 ? 1 : 0);
}

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Unix seconds of local midnight (offset 0) of the rule's date in year `y`, plus its time.
int64_t ruleLocalSeconds(const TimeZone::RuleDate& d, int64_t y) {
  int64_t days = 0;
  if (d.kind == 'J') {
    days = daysFromCivil(y, 1, 1) + d.day - 1 + (leap(y) && d.day >= 60 ? 1 : 0);
  } else if (d.kind == 'D') {
    days = daysFromCivil(y, 1, 1) + d.day;
  } else {
    static constexpr int kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int month_days = kMonthDays[d.month - 1] + (d.month == 2 && leap(y) ? 1 : 0);
    int64_t first = daysFromCivil(y, d.month, 1);
    int first_weekday = static_cast<int>(((first + 4) % 7 + 7) % 7);  // 1970-01-01: Thursday
    int day = 1 + (d.weekday - first_weekday + 7) % 7 + (d.week - 1) * 7;
    while (day > month_days) day -= 7;
    days = first + day - 1;
  }
  return days * 86400 + d.time;
}

// A small cursor over a POSIX TZ rule.
struct RuleParser {
  std::string_view s;
  size_t i = 0;
  bool ok = true;

  bool done() const { return i >= s.size(); }
  bool eat(char c) {
    if (!done() && s[i] == c) return ++i, true;
    return false;
  }
  int number(int lo, int hi) {
    size_t start = i;
    int v = 0;
    while (!done() && s[i] >= '0' && s[i] <= '9' && i - start < 4) v = v * 10 + (s[i++] - '0');
    if (i == start || v < lo || v > hi) ok = false;
    return v;
  }
  void name() {
    if (eat('<')) {
      while (!done() && s[i] != '>') ++i;
      if (!eat('>')) ok = false;
      return;
    }
    size_t start = i;
    while (!done() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    if (i - start < 3) ok = false;
  }
  // [+-]hh[:mm[:ss]] in seconds.
  int64_t clock(int max_hours) {
    int64_t sign = eat('-') ? -1 : (eat('+'), 1);
    int64_t v = number(0, max_hours) * 3600;
    if (eat(':')) v += number(0, 59) * 60;
    if (eat(':')) v += number(0, 59);
    return sign * v;
  }
  TimeZone::RuleDate date() {
    TimeZone::RuleDate d;
    if (eat('J')) {
      d.kind = 'J';
      d.day = number(1, 365);
    } else if (eat('M')) {
      d.month = number(1, 12);
      if (!eat('.')) ok = false;
      d.week = number(1, 5);
      if (!eat('.')) ok = false;
      d.weekday = number(0, 6);
    } else {
      d.kind = 'D';
      d.day = number(0, 365);
    }
    if (eat('/')) d.time = clock(167);
    return d;
  }
};

Result<TimeZone::Rule> parseRule(std::string_view text) {
  RuleParser p{text};
  TimeZone::Rule r;
  p.name();
  r.std_offset = -p.clock(24);
  if (p.ok && !p.done()) {
    r.has_dst = true;
    p.name();
    r.dst_offset = r.std_offset + 3600;
    if (!p.done() && p.s[p.i] != ',') r.dst_offset = -p.clock(24);
    if (p.eat(',')) {
      r.start = p.date();
      if (!p.eat(',')) p.ok = false;
      r.end = p.date();
    } else {  // no dates: the US rules, as glibc assumes
      r.start = TimeZone::RuleDate{'M', 0, 3, 2, 0, 7200};
      r.end = TimeZone::RuleDate{'M', 0, 11, 1, 0, 7200};
    }
  }
  if (!p.ok || !p.done()) {
    return Status::invalidArgument("bad POSIX TZ rule '" + std::string(text) + "'");
  }
  return r;
}

int64_t ruleOffset(const TimeZone::Rule& r, int64_t t) {
  if (!r.has_dst) return r.std_offset;
  int64_t y = yearOfDays(floorDiv(t + r.std_offset, 86400));
  int64_t start = ruleLocalSeconds(r.start, y) - r.std_offset;
  int64_t end = ruleLocalSeconds(r.end, y) - r.dst_offset;
  bool dst = start < end ? (start <= t && t < end) : !(end <= t && t < start);
  return dst ? r.dst_offset : r.std_offset;
}

// Big-endian reads over the file, refusing to run past its end.
struct TzifReader {
  std::string_view bytes;
  size_t pos = 0;
  bool ok = true;

  bool has(size_t n) const { return ok && n <= bytes.size() - pos; }
  int64_t be(int width) {
    if (!has(static_cast<size_t>(width))) return ok = false, 0;
    uint64_t v = 0;
    for (int k = 0; k < width; ++k) v = (v << 8) | static_cast<uint8_t>(bytes[pos++]);
    if (width == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
    return static_cast<int64_t>(v);
  }
  void skip(size_t n) {
    if (!has(n)) ok = false;
    if (ok) pos += n;
  }
};

struct TzifCounts {
  int64_t isut = 0, isstd = 0, leap = 0, time = 0, type = 0, chars = 0;
};

TzifCounts readHeader(TzifReader& r) {
  TzifCounts c;
  if (!r.has(44) || r.bytes.substr(r.pos, 4) != "TZif") return r.ok = false, c;
  r.skip(20);
  c.isut = r.be(4);
  c.isstd = r.be(4);
  c.leap = r.be(4);
  c.time = r.be(4);
  c.type = r.be(4);
  c.chars = r.be(4);
  for (int64_t n : {c.isut, c.isstd, c.leap, c.time, c.type, c.chars}) {
    if (n < 0 || n > 100'000) r.ok = false;
  }
  if (c.type < 1) r.ok = false;
  return c;
}

std::string processZoneName() {
  if (const char* tz = std::getenv("TZ"); tz && *tz) return tz[0] == ':' ? tz + 1 : tz;
  char link[4096];
  ssize_t n = readlink("/etc/localtime", link, sizeof(link) - 1);
  if (n > 0) {
    std::string target(link, static_cast<size_t>(n));
    auto at = target.find("zoneinfo/");
    if (at != std::string::npos) return target.substr(at + 9);
  }
  return "local";
}

}  // namespace

Result<TimeZone> TimeZone::fromTzif(const std::string& name, std::string_view bytes) {
  auto bad = [&name](const std::string& why) {
    return Status::invalidArgument("time zone '" + name + "': " + why);
  };
  TzifReader r{bytes};
  TzifCounts c = readHeader(r);
  if (!r.ok) return bad("not a TZif file");
  char version = bytes[4];
  int width = 4;
  if (version >= '2') {  // skip the 32-bit block: the 64-bit one follows
    r.skip(static_cast<size_t>(c.time * 5 + c.type * 6 + c.chars + c.leap * 8 + c.isstd + c.isut));
    c = readHeader(r);
    width = 8;
  }
  TimeZone z;
  z.name_ = name;
  z.process_local_ = false;
  for (int64_t k = 0; k < c.time && r.ok; ++k) z.transitions_.push_back(r.be(width));
  for (int64_t k = 0; k < c.time && r.ok; ++k) {
    int64_t type = r.be(1);
    if (type >= c.type) r.ok = false;
    z.transition_type_.push_back(static_cast<uint8_t>(type));
  }
  for (int64_t k = 0; k < c.type && r.ok; ++k) {
    int64_t offset = r.be(4);
    if (offset <= -kMaxOffset || offset >= kMaxOffset) r.ok = false;
    z.offsets_.push_back(offset);
    r.skip(2);  // isdst, abbreviation index
  }
  r.skip(static_cast<size_t>(c.chars + c.leap * (width + 4) + c.isstd + c.isut));
  if (!r.ok) return bad("truncated or damaged TZif data");
  if (!std::is_sorted(z.transitions_.begin(), z.transitions_.end())) {
    return bad("TZif transitions out of order");
  }
  if (width == 8 && r.has(2) && bytes[r.pos] == '\n') {
    std::string_view rest = bytes.substr(r.pos + 1);
    std::string_view footer = rest.substr(0, rest.find('\n'));
    if (!footer.empty()) {
      auto rule = parseRule(footer);
      if (!rule) return bad(rule.status().message());
      z.rule_ = *rule;
    }
  }
  return z;
}

Result<TimeZone> TimeZone::fromPosixRule(const std::string& name, std::string_view text) {
  auto rule = parseRule(text);
  if (!rule) return Status::invalidArgument("time zone '" + name + "': " + rule.status().message());
  TimeZone z;
  z.name_ = name;
  z.process_local_ = false;
  z.rule_ = *rule;
  return z;
}

Result<TimeZone> TimeZone::load(const std::string& name, const std::string& zoneinfo_dir) {
  static const std::regex kZoneName("[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*");
  if (name.size() > 255 || !std::regex_match(name, kZoneName)) {
    return Status::invalidArgument("'" + name +
                                   "' is not a time zone name (an IANA name: Europe/Berlin, UTC)");
  }
  std::string dir = zoneinfo_dir;
  if (dir.empty()) {
    const char* env = std::getenv("TZDIR");
    dir = env && *env ? env : "/usr/share/zoneinfo";
  }
  std::string path = dir + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::invalidArgument("unknown time zone '" + name + "' (no " + path + ")");
  }
  std::string bytes(kMaxTzifBytes + 1, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  if (bytes.size() > kMaxTzifBytes) {
    return Status::invalidArgument("time zone '" + name + "': " + path + " is too large");
  }
  return fromTzif(name, bytes);
}

TimeZone::TimeZone() : name_(processZoneName()) {}

int64_t TimeZone::utcOffset(int64_t t) const {
  if (process_local_) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    localtime_r(&tt, &tm);
    return tm.tm_gmtoff;
  }
  if (transitions_.empty() || t >= transitions_.back()) {
    if (rule_) return ruleOffset(*rule_, t);
    if (transitions_.empty()) return offsets_.empty() ? 0 : offsets_[0];
  }
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  if (it == transitions_.begin()) return offsets_[0];
  return offsets_[transition_type_[static_cast<size_t>(it - transitions_.begin() - 1)]];
}

}  // namespace pharos::anchor
