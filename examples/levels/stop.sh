#!/usr/bin/env bash
# Stops what examples/levels/start.sh started (by the pids it recorded), agents first, then
# the lines' private Docker Engines (their containers stop with them; the state is kept, so
# the next start.sh brings the apps back).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${PHAROS_LEVELS_DIR:-$root/.run-levels}
for name in agent-a agent-b anchor line-a-broker line-b-broker site-broker; do
  f=$dir/pids/$name
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -CONT "$pid" 2>/dev/null; kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "levels: stopped $name"
  fi
  rm -f "$f"
done
for x in a b; do
  [ -d "$dir/engine-$x" ] || continue
  PHAROS_DOCKERD_PRIVATE=1 "$root/tools/dockerd.sh" stop "$dir/engine-$x" >/dev/null 2>&1 &&
    echo "levels: stopped the engine of line-$x"
done
