#!/usr/bin/env bash
# Runs the whole Pharos system on this machine, in the background, as root on Debian 12:
#   1. installs the dependencies (tools/setup.sh) and builds the release preset
#      (tools/build.sh release)
#   2. starts a Docker Engine when none answers (tools/dockerd.sh)
#   3. creates the broker identities once (tools/init-credentials.sh: operator `ops`,
#      viewer `viewer`, the local agent) and renders the broker configuration
#      (tools/render-broker-config.sh), then starts mosquitto (MQTT on 127.0.0.1:1883,
#      MQTT over WebSocket + the web UI on http://127.0.0.1:9001/)
#   4. starts pharos-anchor and one local pharos-agent (node id `local`)
#   5. builds the example images (tools/example-images.sh)
# and prints how to use it. Everything it starts keeps its pid and log under .run/;
# tools/stop.sh stops it all. A second run while it is running only prints the summary.
#
# Environment (all optional):
#   PHAROS_RUN_DIR      state directory (default <repo>/.run)
#   PHAROS_MQTT_PORT    MQTT port (default 1883); PHAROS_WS_PORT WebSocket/UI port (9001)
#   PHAROS_NODE_ID      the local agent's node id (default local)
#   PHAROS_BUILD_DIR    use binaries from this build directory (default build/release)
#   PHAROS_SKIP_SETUP=1 skip tools/setup.sh; PHAROS_SKIP_BUILD=1 skip the build
# tools/run.sh --levels: after step 1, starts the three-level example instead
# (examples/levels/start.sh: site broker + anchor, two bridged line brokers, one agent each
# with its own private Docker Engine; docs/levels.md); stop it with examples/levels/stop.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

run_dir=${PHAROS_RUN_DIR:-$root/.run}
mqtt_port=${PHAROS_MQTT_PORT:-1883}
ws_port=${PHAROS_WS_PORT:-9001}
node_id=${PHAROS_NODE_ID:-local}
build_dir=${PHAROS_BUILD_DIR:-$root/build/release}
levels=0
[ "${1:-}" = --levels ] && levels=1

log() { echo "run: $*"; }
die() { echo "run: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts the broker and a Docker Engine)"
mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)
mkdir -p "$run_dir/logs" "$run_dir/pids"

alive() { # alive <name>: the process recorded in pids/<name> runs
  local f="$run_dir/pids/$1"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # wait_for <seconds> <what> <command...>
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

summary() {
  local conf="$run_dir/pharosctl.conf"
  cat <<EOF

Pharos is running (state, pids and logs in $run_dir).

  broker     MQTT          tcp://127.0.0.1:$mqtt_port   (loopback only)
             WebSocket     ws://127.0.0.1:$ws_port/mqtt
  web UI     http://127.0.0.1:$ws_port/
  anchor     log $run_dir/logs/anchor.log
  agent      node '$node_id', log $run_dir/logs/agent.log
  docker     $(cat "$run_dir/docker_host" 2>/dev/null || echo "?")

Log in (web UI and pharosctl) as operator 'ops'; the password is in
  $run_dir/credentials/ops.password   (read-only user: 'viewer', viewer.password)

Use pharosctl and docker (in this shell):
  export PATH=$build_dir/cli:\$PATH
  export PHAROS_CONFIG=$conf    # or PHAROS_BROKER_URL/PHAROS_USERNAME/PHAROS_PASSWORD_FILE
  export DOCKER_HOST=$(cat "$run_dir/docker_host" 2>/dev/null || echo "?")    # the engine the agent uses

  pharosctl group create line1
  pharosctl group add line1 $node_id
  pharosctl deploy -f examples/hello/compose.yml --group line1 --wait

then: curl http://127.0.0.1:8080/   pharosctl apps ls   pharosctl nodes ls --watch
      docker ps --filter label=com.docker.compose.project=hello
Stop everything: tools/stop.sh
EOF
}

if [ $levels = 0 ] && alive broker && alive anchor && alive agent; then
  log "already running"
  summary
  exit 0
fi

# ---- 1. dependencies and build -------------------------------------------------------------
if [ "${PHAROS_SKIP_SETUP:-0}" != 1 ]; then
  log "installing dependencies (tools/setup.sh)"
  tools/setup.sh
fi
if [ "${PHAROS_SKIP_BUILD:-0}" != 1 ]; then
  log "building the release preset (tools/build.sh release; the first build takes a while)"
  tools/build.sh release >"$run_dir/logs/build.log" 2>&1 || {
    tail -30 "$run_dir/logs/build.log" >&2
    die "build failed (full log: $run_dir/logs/build.log)"
  }
fi
# The web UI's bundle (web-ui/dist/: one script, one stylesheet; esbuild pinned in
# web-ui/package.json), rebuilt from the sources on every run. Without it the page loads the
# modules one by one, slower.
if [ -x web-ui/node_modules/.bin/esbuild ]; then
  (cd web-ui && npm run --silent build >"$run_dir/logs/web-ui-build.log" 2>&1) ||
    log "web UI bundle not built (see $run_dir/logs/web-ui-build.log): the page loads unbundled"
fi
for bin in anchor/pharos-anchor agent/pharos-agent cli/pharosctl; do
  [ -x "$build_dir/$bin" ] || die "$build_dir/$bin is missing (build first, or set PHAROS_BUILD_DIR)"
done

# The three-level example runs its own engines, one per line (each agent is a device).
[ $levels = 1 ] && exec examples/levels/start.sh "$build_dir"

# ---- 2. Docker Engine ------------------------------------------------------------------------
log "Docker Engine (tools/dockerd.sh)"
docker_host=$(tools/dockerd.sh start "$run_dir/dockerd" 2>>"$run_dir/logs/dockerd-start.log" |
  sed -n 's/^DOCKER_HOST=//p' | tail -1)
[ -n "$docker_host" ] || die "no Docker Engine (see $run_dir/logs/dockerd-start.log)"
echo "$docker_host" >"$run_dir/docker_host"
export DOCKER_HOST=$docker_host

# ---- 3. broker -------------------------------------------------------------------------------
broker_dir=$run_dir/broker
if [ ! -f "$broker_dir/dynamic-security.json" ]; then
  log "creating broker identities (operator ops, viewer viewer, agent $node_id)"
  tools/init-credentials.sh "$broker_dir" --operator ops --viewer viewer --agent "$node_id" >/dev/null
elif [ ! -f "$broker_dir/credentials/agent-$node_id.env" ]; then
  alive broker && die "node id changed to '$node_id' while the broker runs: run tools/stop.sh first"
  python3 tools/dynsec.py add-agent "$broker_dir" "$node_id" >/dev/null
fi
# Plain password files next to the .env files, for pharosctl and the agent.
mkdir -p "$run_dir/credentials"
chmod 0700 "$run_dir/credentials"
for pair in "operator-ops:ops" "viewer-viewer:viewer" "anchor:anchor" "agent-$node_id:agent-$node_id"; do
  env_file=$broker_dir/credentials/${pair%%:*}.env
  [ -f "$env_file" ] || continue
  (umask 077; sed -n 's/^PHAROS_MQTT_PASSWORD=//p' "$env_file" >"$run_dir/credentials/${pair##*:}.password")
done

# Mosquitto drops privileges to user mosquitto, which must reach its data directory and the
# web UI; when the checkout lives where it cannot (e.g. under /root), it runs as root.
broker_user=mosquitto
if ! id mosquitto >/dev/null 2>&1 ||
   ! runuser -u mosquitto -- test -x "$run_dir" -a -r "$root/web-ui/index.html" 2>/dev/null; then
  broker_user=root
fi
PHAROS_BROKER_USER=$broker_user tools/render-broker-config.sh "$broker_dir" "$mqtt_port" "$ws_port" \
  "$root/web-ui" >/dev/null

# ---- Sparkplug B edge node (pharos-sparkplug; docs/scada.md) ----------------------------------
# Its broker identity is created once while the broker is stopped; it retries until the
# broker answers, so it starts here. SCADA hosts log in as `scada` (scada.password).
if [ ! -f "$broker_dir/credentials/sparkplug-sparkplug.env" ] && ! alive broker; then
  python3 tools/dynsec.py add-sparkplug "$broker_dir" >/dev/null
  python3 tools/dynsec.py add-scada "$broker_dir" scada >/dev/null
fi
for pair in "sparkplug-sparkplug:sparkplug" "scada-scada:scada"; do
  env_file=$broker_dir/credentials/${pair%%:*}.env
  [ -f "$env_file" ] || continue
  (umask 077; sed -n 's/^PHAROS_MQTT_PASSWORD=//p' "$env_file" >"$run_dir/credentials/${pair##*:}.password")
done
if ! alive sparkplug && [ -x "$build_dir/sparkplug/pharos-sparkplug" ] &&
   [ -f "$run_dir/credentials/sparkplug.password" ]; then
  log "starting pharos-sparkplug (Sparkplug B group pharos, edge node site)"
  mkdir -p "$run_dir/sparkplug"
  printf '%s\n' "# pharos-sparkplug settings for the local quick start (written by tools/run.sh)" \
    "broker_url = tcp://127.0.0.1:$mqtt_port" "username = sparkplug" \
    "password_file = $run_dir/credentials/sparkplug.password" "data_dir = $run_dir/sparkplug" \
    "group_id = pharos" "edge_node_id = site" >"$run_dir/sparkplug.conf"
  nohup "$build_dir/sparkplug/pharos-sparkplug" --config "$run_dir/sparkplug.conf" \
    >>"$run_dir/logs/sparkplug.log" 2>&1 &
  echo $! >"$run_dir/pids/sparkplug"
fi

if ! alive broker; then
  port_open "$mqtt_port" && die "port $mqtt_port is taken by another program (set PHAROS_MQTT_PORT)"
  log "starting mosquitto on 127.0.0.1:$mqtt_port (WebSocket and web UI on $ws_port)"
  nohup /usr/sbin/mosquitto -c "$broker_dir/mosquitto.conf" >>"$run_dir/logs/broker.log" 2>&1 &
  echo $! >"$run_dir/pids/broker"
  wait_for 10 broker port_open "$mqtt_port" || {
    tail -20 "$run_dir/logs/broker.log" >&2
    die "mosquitto did not start (log: $run_dir/logs/broker.log)"
  }
fi
broker_url=tcp://127.0.0.1:$mqtt_port

cat >"$run_dir/pharosctl.conf" <<EOF
# pharosctl settings for the local quick start (written by tools/run.sh)
broker_url = $broker_url
username = ops
password_file = $run_dir/credentials/ops.password
EOF
chmod 0600 "$run_dir/pharosctl.conf"

# ---- 4. anchor and agent ---------------------------------------------------------------------
mkdir -p "$run_dir/anchor" "$run_dir/agent"
if ! alive anchor; then
  log "starting pharos-anchor"
  cat >"$run_dir/anchor.conf" <<EOF
# pharos-anchor settings for the local quick start (written by tools/run.sh)
broker_url = $broker_url
username = anchor
password_file = $run_dir/credentials/anchor.password
data_dir = $run_dir/anchor
dynsec_file = $broker_dir/dynamic-security.json
# read-only users (the broker's ACL lets them publish requests; the anchor answers only reads)
viewer = viewer
EOF
  chmod 0600 "$run_dir/anchor.conf"
  nohup "$build_dir/anchor/pharos-anchor" --config "$run_dir/anchor.conf" \
    >>"$run_dir/logs/anchor.log" 2>&1 &
  echo $! >"$run_dir/pids/anchor"
fi

if ! alive agent; then
  log "starting pharos-agent (node $node_id)"
  cat >"$run_dir/agent.conf" <<EOF
# pharos-agent settings for the local quick start (written by tools/run.sh)
node_id = $node_id
broker_url = $broker_url
username = $node_id
password_file = $run_dir/credentials/agent-$node_id.password
state_file = $run_dir/agent/state.json
data_dir = $run_dir/agent
docker_host = $docker_host
label = site=local
EOF
  chmod 0600 "$run_dir/agent.conf"
  nohup "$build_dir/agent/pharos-agent" --config "$run_dir/agent.conf" \
    >>"$run_dir/logs/agent.log" 2>&1 &
  echo $! >"$run_dir/pids/agent"
fi

ctl() { "$build_dir/cli/pharosctl" --config "$run_dir/pharosctl.conf" "$@"; }
log "waiting for the anchor to answer and the agent to be Ready"
if ! wait_for 30 anchor ctl --request-timeout 2s nodes ls -o json >/dev/null 2>&1; then
  alive anchor || { tail -20 "$run_dir/logs/anchor.log" >&2; die "pharos-anchor exited (log: $run_dir/logs/anchor.log)"; }
  die "pharos-anchor does not answer (log: $run_dir/logs/anchor.log)"
fi
node_ready() { ctl --request-timeout 2s nodes ls --health Ready -o json 2>/dev/null | grep -q "\"$node_id\""; }
if ! wait_for 30 agent node_ready; then
  alive agent || { tail -20 "$run_dir/logs/agent.log" >&2; die "pharos-agent exited (log: $run_dir/logs/agent.log)"; }
  log "warning: node $node_id is not Ready yet (log: $run_dir/logs/agent.log)"
fi

# ---- 5. example images -----------------------------------------------------------------------
log "building the example images (tools/example-images.sh)"
tools/example-images.sh >>"$run_dir/logs/example-images.log" 2>&1 ||
  log "warning: example images failed to build (log: $run_dir/logs/example-images.log)"

summary
