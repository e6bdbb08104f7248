#!/bin/sh
# Soak test (docs/reliability.md), NOT run in CI: MINUTES of churn (app updates, membership
# changes, agent kill -9, anchor kill -9 in the first half, broker restarts, container
# kill / rm -f) over 50 hollow agents (pharos-fleetsim) plus 3 real pharos-agent processes
# (one of them on a private Docker Engine, never killed), then the invariants and the
# memory-growth check: the RSS of that agent (whole run) and of the anchor (second half,
# when it is no longer killed) may grow by at most 10 % + 4 MiB.
#
#   tools/soak.sh [MINUTES]            default 30
#   PHAROS_BUILD_DIR=build/release tools/soak.sh 10
#   PHAROS_FAULT_SEED=42 tools/soak.sh # replay a run's random choices
#
# Needs pharos-anchor and pharos-agent built WITHOUT sanitizers (ASan's quarantine grows RSS;
# the test refuses such binaries), pharos-fleetsim (PHAROS_BUILD_DIR, or build/fleetsim-release,
# build/release, build/ci, build/debug), Mosquitto, and a Docker Engine (started through
# tools/dockerd.sh by the test harness, which also starts the private one). Loopback only.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=${1:-30}
case "$MINUTES" in
  ''|*[!0-9.]*) echo "usage: tools/soak.sh [MINUTES]" >&2; exit 2 ;;
esac
cd "$ROOT/tests/integration"
PHAROS_SOAK_MINUTES=$MINUTES exec /usr/bin/python3 -m pytest -q -s -p no:cacheprovider \
  test_faults_soak.py
