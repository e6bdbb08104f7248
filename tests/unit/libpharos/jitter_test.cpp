// Jitter: the delays that keep a fleet's timers out of step.
#include "pharos/jitter.h"

#include <doctest/doctest.h>

#include <set>

using namespace pharos;
using std::chrono::milliseconds;

TEST_CASE("around() stays within base +/- fraction and spreads over that whole range") {
  Jitter j(42);
  milliseconds lo{1'000'000}, hi{0};
  for (int i = 0; i < 2000; ++i) {
    auto d = j.around(milliseconds(30'000), 0.2);
    CHECK(d >= milliseconds(24'000));
    CHECK(d <= milliseconds(36'000));
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  // 2,000 uniform draws over 12 s leave no gap of 600 ms at either end.
  CHECK(lo < milliseconds(24'600));
  CHECK(hi > milliseconds(35'400));
}

TEST_CASE("around() with no fraction, or nothing to spread, is the base itself") {
  Jitter j(1);
  CHECK(j.around(milliseconds(30'000), 0.0) == milliseconds(30'000));
  CHECK(j.around(milliseconds(0), 0.5) == milliseconds(0));
  CHECK(j.around(milliseconds(10), -3.0) == milliseconds(10));  // clamped to 0
  auto d = j.around(milliseconds(100), 7.0);                    // clamped to 1
  CHECK(d >= milliseconds(0));
  CHECK(d <= milliseconds(200));
}

TEST_CASE("below() is in [0, max) and 0 for a non-positive max") {
  Jitter j(0);  // 0 is replaced, the generator still moves
  std::set<int64_t> seen;
  for (int i = 0; i < 500; ++i) {
    auto d = j.below(milliseconds(10));
    CHECK(d >= milliseconds(0));
    CHECK(d < milliseconds(10));
    seen.insert(d.count());
  }
  CHECK(seen.size() == 10);
  CHECK(j.below(milliseconds(0)) == milliseconds(0));
  CHECK(j.below(milliseconds(-5)) == milliseconds(0));
}

TEST_CASE("a seed fixes the sequence; agents started together get different seeds") {
  Jitter a(7), b(7);
  for (int i = 0; i < 10; ++i) CHECK(a.next() == b.next());
  // Same salt, same millisecond (the simulator starts hundreds of agents at once): the OS
  // entropy still differs. Different salts differ too.
  std::set<uint64_t> seeds;
  for (int i = 0; i < 100; ++i) seeds.insert(entropySeed("sim-00001"));
  for (int i = 0; i < 100; ++i) seeds.insert(entropySeed("sim-" + std::to_string(i)));
  CHECK(seeds.size() == 200);
  CHECK(seeds.count(0) == 0);
}
