#!/bin/sh
# Dev/test Docker Engine: use the machine's engine when one answers, else run our own.
#
#   tools/dockerd.sh start  <state-dir>   prints DOCKER_HOST=unix://... on stdout
#   tools/dockerd.sh stop   <state-dir>   stops the engine only if this script started it
#   tools/dockerd.sh status <state-dir>   prints DOCKER_HOST=... and exits 0 when one answers
#   tools/dockerd.sh netns  <state-dir>   prints the network namespace of a private engine
#
# An engine already answering on $DOCKER_HOST (unix://) or /var/run/docker.sock is used as
# is. Otherwise dockerd runs with its own data root, exec root and socket under <state-dir>
# (it starts its own managed containerd), --iptables=false, the cgroupfs driver (PID 1 is
# not systemd) and the default storage driver (overlay2); if that driver cannot start, it
# retries with vfs. Start and stop hold a lock on <state-dir>/lock, so concurrent callers
# share one engine. Progress goes to stderr; the log is <state-dir>/dockerd.log.
# PHAROS_DOCKERD_STORAGE_DRIVER forces a storage driver (e.g. vfs); the vfs fallback is
# remembered in <state-dir>/storage-driver. Run one such engine per machine: every engine
# wants the docker0 bridge and 172.17.0.0/16.
#
# PHAROS_DOCKERD_PRIVATE=1 starts an extra, private engine for tests that stop, restart or
# multiply engines (a daemon restart, three "devices" with one engine each): it never uses
# the machine's engine and runs in its own network namespace (pe-<hash of state-dir>,
# created at start, deleted at stop), so its docker0, bridges and routes never meet the
# shared engine's (dockerd deletes or reuses docker0 and 172.17.0.0/16 otherwise). Its
# socket is a file, reachable from the host as usual; its published ports live in the
# namespace (`ip netns exec pe-... curl ...`; `netns` prints the name).
set -eu

usage() {
  echo "usage: $0 start|stop|status|netns <state-dir>" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
state=$(cd "$2" && pwd)
sock="$state/docker.sock"
pidfile="$state/dockerd.pid"
marker="$state/started-by-dockerd-sh"
log="$state/dockerd.log"
start_timeout=${PHAROS_DOCKERD_START_TIMEOUT:-60}

PATH=$PATH:/usr/sbin:/sbin
export PATH

# answers <socket>: the engine on that socket replies OK to /_ping.
answers() {
  [ -S "$1" ] || return 1
  [ "$(curl -s --max-time 3 --unix-socket "$1" http://localhost/_ping 2>/dev/null)" = "OK" ]
}

# existing_host: an engine not managed by this state dir that already answers.
existing_host() {
  [ "${PHAROS_DOCKERD_PRIVATE:-}" != 1 ] || return 1
  case "${DOCKER_HOST:-}" in
    unix://*)
      p=${DOCKER_HOST#unix://}
      if [ "$p" != "$sock" ] && answers "$p"; then
        echo "unix://$p"
        return 0
      fi
      ;;
  esac
  if answers /var/run/docker.sock; then
    echo "unix:///var/run/docker.sock"
    return 0
  fi
  return 1
}

pid_alive() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# launch <extra dockerd args...>: starts dockerd in the background, waits until it answers.
launch() {
  rm -f "$sock" "$pidfile"
  echo "--- $(date -u +%FT%TZ) dockerd $*" >>"$log"
  prefix=$(netns_prefix)
  # shellcheck disable=SC2086 # the prefix is several words
  setsid $prefix dockerd \
    --iptables=false \
    --exec-opt native.cgroupdriver=cgroupfs \
    --data-root "$state/data" \
    --exec-root "$state/exec" \
    --pidfile "$pidfile" \
    -H "unix://$sock" \
    "$@" </dev/null >>"$log" 2>&1 9>&- &
  dpid=$!
  i=0
  while [ $i -lt $((start_timeout * 5)) ]; do
    if answers "$sock"; then
      return 0
    fi
    if ! kill -0 "$dpid" 2>/dev/null; then
      echo "dockerd exited during start-up (see $log)" >&2
      return 1
    fi
    sleep 0.2
    i=$((i + 1))
  done
  echo "dockerd did not answer within ${start_timeout}s (see $log); stopping it" >&2
  kill -TERM "$dpid" 2>/dev/null || true
  return 1
}

# private_ns: the network namespace of this state dir's private engine.
private_ns() {
  echo "pe-$(echo "$state" | md5sum | cut -c1-10)"
}

# netns_prefix: the command prefix that runs dockerd in the private namespace (made here;
# nsenter, not `ip netns exec`, which remounts /sys and so hides the cgroup mounts).
netns_prefix() {
  [ "${PHAROS_DOCKERD_PRIVATE:-}" = 1 ] || return 0
  ns=$(private_ns)
  ip netns list | grep -q "^$ns\b" || ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
  echo "nsenter --net=/run/netns/$ns"
}

do_start() {
  if host=$(existing_host); then
    echo "using the running engine at $host" >&2
    echo "DOCKER_HOST=$host"
    return 0
  fi
  if answers "$sock"; then
    echo "DOCKER_HOST=unix://$sock"
    return 0
  fi
  if pid_alive; then
    echo "dockerd (pid $(cat "$pidfile")) runs but does not answer; waiting" >&2
    i=0
    while [ $i -lt $((start_timeout * 5)) ]; do
      if answers "$sock"; then
        echo "DOCKER_HOST=unix://$sock"
        return 0
      fi
      sleep 0.2
      i=$((i + 1))
    done
    echo "dockerd (pid $(cat "$pidfile")) does not answer on $sock" >&2
    return 1
  fi
  command -v dockerd >/dev/null || {
    echo "dockerd not installed (Debian package docker.io)" >&2
    return 1
  }
  if [ ${#sock} -gt 100 ]; then
    echo "state dir path too long for a unix socket: $sock" >&2
    return 1
  fi
  mkdir -p "$state/data" "$state/exec"
  driver_file="$state/storage-driver"
  if [ -n "${PHAROS_DOCKERD_STORAGE_DRIVER:-}" ]; then
    set -- --storage-driver "$PHAROS_DOCKERD_STORAGE_DRIVER"
  elif [ -f "$driver_file" ]; then
    set -- --storage-driver "$(cat "$driver_file")"
  else
    set --
  fi
  if ! launch "$@"; then
    if [ $# -eq 0 ] && grep -qiE "graphdriver|overlay|storage.driver" "$log"; then
      echo "default storage driver failed; retrying with vfs" >&2
      sleep 1
      launch --storage-driver vfs
      echo vfs >"$driver_file"
    else
      return 1
    fi
  fi
  touch "$marker"
  echo "dockerd started (pid $(cat "$pidfile")), log $log" >&2
  echo "DOCKER_HOST=unix://$sock"
}

do_stop() {
  if [ ! -f "$marker" ]; then
    echo "no engine started by this script in $state; nothing to stop" >&2
    return 0
  fi
  if pid_alive; then
    pid=$(cat "$pidfile")
    kill -TERM "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do
      sleep 0.2
      i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "dockerd (pid $pid) ignored SIGTERM for 30s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$marker" "$pidfile"
  if [ "${PHAROS_DOCKERD_PRIVATE:-}" = 1 ]; then
    ip netns del "$(private_ns)" 2>/dev/null || true
  fi
  echo "dockerd stopped" >&2
}

do_status() {
  if host=$(existing_host); then
    echo "DOCKER_HOST=$host"
    return 0
  fi
  if answers "$sock"; then
    echo "DOCKER_HOST=unix://$sock"
    return 0
  fi
  echo "no engine answers" >&2
  return 1
}

case "$cmd" in
  start | stop)
    exec 9>"$state/lock"
    flock 9
    "do_$cmd"
    ;;
  status) do_status ;;
  netns) private_ns ;;
  *) usage ;;
esac
