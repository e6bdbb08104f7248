#!/usr/bin/env bash
# Stops what tools/run.sh started, in order: the agent (SIGTERM: it publishes NotReady and
# disconnects cleanly; its apps' containers keep running, as on a real device),
# pharos-sparkplug (its NDEATH), the anchor,
# the broker, and the Docker Engine only if run.sh started it (tools/dockerd.sh knows).
# Each process gets up to 20 s after SIGTERM, then SIGKILL.
#
# Environment: PHAROS_RUN_DIR (default <repo>/.run), as for run.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run_dir=${PHAROS_RUN_DIR:-$root/.run}

if [ ! -d "$run_dir/pids" ]; then
  echo "stop: nothing to stop ($run_dir/pids does not exist)"
  exit 0
fi

stop_one() { # stop_one <name>
  local f="$run_dir/pids/$1" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$f"
    return 0
  fi
  echo "stop: $1 (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "stop: $1 did not stop within 20 s, killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

stop_one agent
stop_one sparkplug
stop_one anchor
stop_one broker
if [ -d "$run_dir/dockerd" ]; then
  tools/dockerd.sh stop "$run_dir/dockerd" >/dev/null 2>&1 || true
fi
echo "stop: stopped (state kept in $run_dir; tools/run.sh starts it again)"
