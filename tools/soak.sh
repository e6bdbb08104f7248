#!/bin/sh
# Soak test (docs/reliability.md), NOT run in CI: MINUTES of churn (deploys, updates,
# membership changes, agent kill -9, anchor kill -9, container kill / rm -f) over 50 hollow
# agents (pharos-fleetsim) plus 2 real pharos-agent processes, then the invariants.
#
#   tools/soak.sh [MINUTES]            default 30
#   PHAROS_BUILD_DIR=build/ci tools/soak.sh 10
#   PHAROS_FAULT_SEED=42 tools/soak.sh # replay a run's random choices
#
# Needs the built pharos-anchor, pharos-agent and pharos-fleetsim (PHAROS_BUILD_DIR, or
# build/fleetsim-release, build/release, build/ci, build/debug), Mosquitto, and a Docker
# Engine (started through tools/dockerd.sh by the test harness). Loopback only.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=${1:-30}
case "$MINUTES" in
  ''|*[!0-9.]*) echo "usage: tools/soak.sh [MINUTES]" >&2; exit 2 ;;
esac
cd "$ROOT/tests/integration"
PHAROS_SOAK_MINUTES=$MINUTES exec /usr/bin/python3 -m pytest -q -s -p no:cacheprovider \
  test_faults_soak.py
