#!/bin/sh
# The whole docker-compose parity suite: every compose file of tests/data/compose/parity/ is
# deployed by pharos-agent and by Debian's docker-compose 1.29 on one Docker Engine, and the
# two are compared after deploy, update, stop/start and removal (docs/agent.md "Parity with
# docker-compose 1.29"). Slow (about half a minute per file); the test command (ctest) runs
# a CI-sized subset of the same test.
#
#   tools/parity.sh [build-dir] [pytest args...]     (default build dir: build/ci)
#   tools/parity.sh build/ci -k tig                  one file
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/ci}
[ $# -gt 0 ] && shift
[ -x "$build/agent/pharos-agent" ] || {
  echo "parity: $build/agent/pharos-agent is not built (tools/build.sh ci)" >&2
  exit 2
}
build=$(cd "$build" && pwd)
cd "$root/tests/integration"
PHAROS_PARITY=all PHAROS_BUILD_DIR=$build exec /usr/bin/python3 -m pytest -q \
  -p no:cacheprovider "$@" test_agent_compose_parity.py
