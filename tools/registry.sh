#!/bin/sh
# Local image registry for tests (Debian docker-registry, distribution 2.8) on loopback.
#
#   tools/registry.sh start <state-dir> <port>   prints REGISTRY=127.0.0.1:<port>
#   tools/registry.sh stop  <state-dir> <port>
#
# Writes <state-dir>/config.yml (filesystem storage under <state-dir>/data, deletes enabled,
# no auth, HTTP on 127.0.0.1:<port> only) and waits until /v2/ answers. The Docker Engine
# treats registries on 127.0.0.0/8 as insecure by default, so plain HTTP push/pull works
# without daemon configuration.
set -eu

[ $# -eq 3 ] || {
  echo "usage: $0 start|stop <state-dir> <port>" >&2
  exit 2
}
cmd=$1
mkdir -p "$2"
state=$(cd "$2" && pwd)
port=$3
pidfile="$state/registry.pid"

answers() {
  curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" 2>/dev/null |
    grep -q '^200$'
}

case "$cmd" in
  start)
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && answers; then
      echo "REGISTRY=127.0.0.1:$port"
      exit 0
    fi
    mkdir -p "$state/data"
    cat >"$state/config.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $state/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  headers:
    X-Content-Type-Options: [nosniff]
YML
    setsid docker-registry serve "$state/config.yml" </dev/null >>"$state/registry.log" 2>&1 &
    echo $! >"$pidfile"
    i=0
    while ! answers; do
      if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "docker-registry exited (see $state/registry.log)" >&2
        exit 1
      fi
      i=$((i + 1))
      [ $i -lt 150 ] || {
        echo "docker-registry did not answer on 127.0.0.1:$port within 30s" >&2
        kill "$(cat "$pidfile")" 2>/dev/null || true
        exit 1
      }
      sleep 0.2
    done
    echo "REGISTRY=127.0.0.1:$port"
    ;;
  stop)
    if [ -f "$pidfile" ]; then
      pid=$(cat "$pidfile")
      kill -TERM "$pid" 2>/dev/null || true
      i=0
      while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.2
        i=$((i + 1))
      done
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    fi
    ;;
  *)
    echo "usage: $0 start|stop <state-dir> <port>" >&2
    exit 2
    ;;
esac
