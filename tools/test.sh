#!/usr/bin/env bash
# The test command: sets everything up and runs every test, as root on Debian 12.
#   1. installs the Debian/npm dependencies (tools/setup.sh)
#   2. checks formatting (clang-format 14)
#   3. with --fuzz (or --all): builds the libFuzzer targets with clang and fuzzes each for a
#      bounded time (FUZZ_SECONDS, default 10; tools/fuzz.sh). By default the fuzz targets'
#      corpora (fuzz/corpus/) are replayed instead, as unit tests of the ci build below
#      (fuzz_corpus_*: every seed and kept input once, under ASan/UBSan)
#   4. builds the "ci" preset: warnings as errors + AddressSanitizer/UBSan
#   5. starts a Docker Engine if none runs (stopped again at the end)
#   6. runs the ctest suites: unit tests (side by side), schema contract, integration tests
#      (one at a time) against a real Mosquitto and the real Docker Engine (each suite
#      prints its time). Suites labelled
#      `long` (the package install/upgrade run, which builds its own release tree, and the
#      levels example with its private engines) run only with --all; by default their
#      CI-sized subsets run instead (test_packaging_sources, test_levels).
#   7. with --cross-smoke, first: the arm64 cross build of the agent and its unit tests under
#      qemu-user (tools/cross.sh --smoke; not by default: it takes longer than the ~5 minutes a
#      default step may take on the 2-core machine, docs/install.md). The whole cross check,
#      both architectures, packages and the emulated integration test: tools/cross.sh.
# Options: --fuzz, --unit (unit tests only), -R REGEX (passed to ctest), --cross-smoke,
# --all (the long suites and the fuzzing too). --no-fuzz is accepted (the default).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

fuzz=0
cross_smoke=0
long=0
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --fuzz) fuzz=1 ;;
    --no-fuzz) fuzz=0 ;;
    --unit) ctest_args+=(-L unit) ;;
    -R) ctest_args+=(-R "$2"); shift ;;
    --cross-smoke) cross_smoke=1 ;;
    --all) long=1; fuzz=1 ;;
    *) echo "usage: tools/test.sh [--fuzz] [--unit] [-R REGEX] [--cross-smoke] [--all]" >&2; exit 2 ;;
  esac
  shift
done

t0=$(date +%s)
stage() { echo; echo "=== $1 ($(( $(date +%s) - t0 )) s elapsed)"; }

stage "setup"
tools/setup.sh

stage "format check"
tools/format-check.sh

if [ $fuzz = 1 ]; then
  stage "fuzz targets (${FUZZ_SECONDS:-10} s each)"
  tools/fuzz.sh
fi

if [ $cross_smoke = 1 ]; then
  stage "cross smoke: arm64 agent built and unit-tested under qemu-user"
  tools/cross.sh --smoke
fi

stage "build (preset ci: -Werror, ASan+UBSan)"
tools/build.sh ci

stage "docker engine"
engine_dir=$root/build/ci/dockerd
eval "$(tools/dockerd.sh start "$engine_dir" | grep '^DOCKER_HOST=')"
export DOCKER_HOST
trap 'tools/dockerd.sh stop "$engine_dir" >/dev/null 2>&1 || true' EXIT
echo "docker engine at $DOCKER_HOST"

stage "tests"
[ $long = 1 ] || ctest_args+=(-LE long)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# -j3: the unit suites, mostly waiting on their own brokers and clocks, run side by side;
# every integration suite runs alone (RUN_SERIAL, tests/integration/CMakeLists.txt).
ctest --test-dir build/ci --output-on-failure --timeout 900 -j3 "${ctest_args[@]}"
echo "total test command time: $(( $(date +%s) - t0 )) s"
