// Time zones (time_zone.h): offsets of named zones from the system's zoneinfo, the POSIX TZ
// rules of TZif footers, agreement with glibc over 1975-2099, and the inputs it refuses.
#include "anchor/time_zone.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>

using namespace pharos;
using namespace pharos::anchor;

namespace {

constexpr int64_t kHour = 3600;

// 2024-03-31 01:00 UTC: Central Europe goes to summer time.
constexpr int64_t kBerlinSpring2024 = 1711846800;

TimeZone zone(const std::string& name) {
  auto z = TimeZone::load(name);
  REQUIRE_MESSAGE(z.isOk(), z.status().message());
  return *z;
}

// Sets TZ for glibc for the scope of one check, and puts the old value back.
class ScopedTz {
 public:
  explicit ScopedTz(const std::string& value) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    setenv("TZ", value.c_str(), 1);
    tzset();
  }
  ~ScopedTz() {
    if (old_) {
      setenv("TZ", old_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  ScopedTz(const ScopedTz&) = delete;
  ScopedTz& operator=(const ScopedTz&) = delete;

 private:
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("a named zone gives its offset on both sides of a transition") {
  TimeZone berlin = zone("Europe/Berlin");
  CHECK(berlin.name() == "Europe/Berlin");
  CHECK(berlin.utcOffset(kBerlinSpring2024 - 1) == 1 * kHour);
  CHECK(berlin.utcOffset(kBerlinSpring2024) == 2 * kHour);
  CHECK(zone("Asia/Tokyo").utcOffset(kBerlinSpring2024) == 9 * kHour);
  CHECK(zone("UTC").utcOffset(kBerlinSpring2024) == 0);
  CHECK(zone("Asia/Kolkata").utcOffset(kBerlinSpring2024) == 5 * kHour + 1800);
  // The southern hemisphere: Sydney's summer time spans the new year.
  TimeZone sydney = zone("Australia/Sydney");
  CHECK(sydney.utcOffset(1704067200) == 11 * kHour);  // 2024-01-01
  CHECK(sydney.utcOffset(1719792000) == 10 * kHour);  // 2024-07-01
  // Past the file's last transition the footer's rule applies: 2090-07-01 and 2090-01-01.
  CHECK(berlin.utcOffset(3802550400) == 2 * kHour);
  CHECK(berlin.utcOffset(3786825600) == 1 * kHour);
}

TEST_CASE("named zones agree with glibc's localtime from 1975 to 2099") {
  for (const char* name : {"Europe/Berlin", "America/New_York", "Australia/Sydney",
                           "America/Sao_Paulo", "Pacific/Chatham", "Asia/Tokyo", "America/St_Johns",
                           "Europe/London", "Africa/Casablanca"}) {
    TimeZone z = zone(name);
    ScopedTz tz(name);
    int mismatches = 0;
    // Every 6 h 13 min 7 s: every hour of the day and every day of the week come up.
    for (int64_t t = 157766400; t < 4102444800 && mismatches < 3; t += 22387) {
      std::time_t tt = static_cast<std::time_t>(t);
      std::tm tm{};
      localtime_r(&tt, &tm);
      if (z.utcOffset(t) != tm.tm_gmtoff) {
        ++mismatches;
        FAIL_CHECK(name << " at " << t << ": " << z.utcOffset(t) << " != " << tm.tm_gmtoff);
      }
    }
  }
}

TEST_CASE("POSIX TZ rules give standard and summer time") {
  struct Case {
    const char* rule;
    int64_t t;
    int64_t offset;
  };
  const Case cases[] = {
      {"JST-9", kBerlinSpring2024, 9 * kHour},
      {"<-03>3", kBerlinSpring2024, -3 * kHour},
      {"CET-1CEST,M3.5.0,M10.5.0/3", kBerlinSpring2024 - 1, 1 * kHour},
      {"CET-1CEST,M3.5.0,M10.5.0/3", kBerlinSpring2024, 2 * kHour},
      {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1704067200, 11 * kHour},
      {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1719792000, 10 * kHour},
      {"EST5EDT", 1719792000, -4 * kHour},  // no dates: the US rules
      {"EST5EDT", 1704067200, -5 * kHour},
      {"<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", 1704067200, 13 * kHour + 2700},
      {"IST-1GMT0,M10.5.0,M3.5.0/1", 1704067200, 0},  // negative summer time (Europe/Dublin)
      {"IST-1GMT0,M10.5.0,M3.5.0/1", 1719792000, 1 * kHour},
      {"XYZ0ABC,J60/0,J300/0", 1719792000, 1 * kHour},
      {"XYZ0ABC,59/0,299/0", 1704067200, 0},
  };
  for (const auto& c : cases) {
    auto z = TimeZone::fromPosixRule("test", c.rule);
    REQUIRE_MESSAGE(z.isOk(), c.rule << ": " << z.status().message());
    CHECK_MESSAGE(z->utcOffset(c.t) == c.offset, c.rule << " at " << c.t);
  }
}

TEST_CASE("bad zone names, files and rules are refused with the zone's name") {
  for (const char* name : {"", "/etc/passwd", "../etc/passwd", "Europe/../../etc/passwd",
                           "Europe//Berlin", "Europe/Berlin/", "Eur ope"}) {
    auto z = TimeZone::load(name);
    REQUIRE_FALSE(z.isOk());
    CHECK(z.status().message().find("is not a time zone name") != std::string::npos);
  }
  auto unknown = TimeZone::load("Mars/Olympus_Mons");
  REQUIRE_FALSE(unknown.isOk());
  CHECK(unknown.status().message().find("unknown time zone 'Mars/Olympus_Mons'") !=
        std::string::npos);

  // A zoneinfo folder whose file is not TZif, and TZif files cut short.
  auto dir = std::filesystem::temp_directory_path() / ("zoneinfo-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "Site");
  std::ofstream(dir / "Site" / "Plain") << "CET-1CEST,M3.5.0,M10.5.0/3\n";
  auto plain = TimeZone::load("Site/Plain", dir.string());
  std::filesystem::remove_all(dir);
  REQUIRE_FALSE(plain.isOk());
  CHECK(plain.status().message() == "time zone 'Site/Plain': not a TZif file");

  std::ifstream in("/usr/share/zoneinfo/Europe/Berlin", std::ios::binary);
  std::string berlin((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(berlin.size() > 200);
  CHECK(TimeZone::fromTzif("Europe/Berlin", berlin).isOk());
  for (size_t cut : {size_t{0}, size_t{4}, size_t{43}, size_t{60}, berlin.size() / 2}) {
    auto z = TimeZone::fromTzif("Europe/Berlin", berlin.substr(0, cut));
    CHECK_MESSAGE(!z.isOk(), "cut at " << cut);
  }
  std::string bad_footer = berlin.substr(0, berlin.rfind('\n', berlin.size() - 2)) + "\nCET\n";
  CHECK_FALSE(TimeZone::fromTzif("Europe/Berlin", bad_footer).isOk());

  for (const char* rule : {"", "CET", "C-1", "CET-1CEST,M13.1.0,M10.5.0", "CET-1CEST,M3.5.0",
                           "CET-1CEST,M3.6.0,M10.5.0", "CET-25", "CET-1CEST,J0,J100", "<CET-1"}) {
    auto z = TimeZone::fromPosixRule("test", rule);
    CHECK_MESSAGE(!z.isOk(), "accepted '" << rule << "'");
  }
}
