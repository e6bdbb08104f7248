#!/usr/bin/env bash
# Starts the three-level example on ONE machine (docs/levels.md), loopback only:
#   site broker   127.0.0.1:${SITE_PORT:-1883} (+ WebSocket/web UI ${SITE_WS_PORT:-9001}), the anchor
#   line-a broker 127.0.0.1:${LINE_A_PORT:-1884}, bridged to the site, agent `press-a1`
#   line-b broker 127.0.0.1:${LINE_B_PORT:-1885}, bridged to the site, agent `press-b1`
# Groups: `plant` (the site) > `line-a` (press-a1), `line-b` (press-b1); created once.
# Each agent is a device with its own Docker Engine: a private dockerd per line
# (tools/dockerd.sh with PHAROS_DOCKERD_PRIVATE=1: own data root, socket and network
# namespace) into which the example images are built (tools/example-images.sh), so the two
# lines run the same app under the same container names and ports, as two devices do, and
# nothing on this machine's own engine (a quick start's `hello` app) is in the way.
#
#   examples/levels/start.sh [build-dir]     (default build/release; binaries must exist)
#   examples/levels/stop.sh
#
# State, pids, logs and the engines in ${PHAROS_LEVELS_DIR:-<repo>/.run-levels}. Runs as root
# (the engines' network namespaces); needs dockerd (Debian docker.io) and busybox-static, not
# a running engine. The line brokers use broker-config/mosquitto-line.conf
# rendered by tools/render-broker-config.sh; the bridge identities come from
# `tools/dynsec.py add-bridge`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-${PHAROS_BUILD_DIR:-$root/build/release}}
dir=${PHAROS_LEVELS_DIR:-$root/.run-levels}
site_port=${SITE_PORT:-1883}
site_ws=${SITE_WS_PORT:-9001}
declare -A line_port=([a]=${LINE_A_PORT:-1884} [b]=${LINE_B_PORT:-1885})
declare -A line_ws=([a]=${LINE_A_WS_PORT:-9002} [b]=${LINE_B_WS_PORT:-9003})
keepalive=${PHAROS_BRIDGE_KEEPALIVE:-10}

log() { echo "levels: $*"; }
die() { echo "levels: error: $*" >&2; exit 1; }
for b in anchor/pharos-anchor agent/pharos-agent cli/pharosctl; do
  [ -x "$build/$b" ] || die "$build/$b not built (tools/build.sh release, or pass a build dir)"
done
mkdir -p "$dir/pids" "$dir/logs"
dir=$(cd "$dir" && pwd)
alive() { [ -f "$dir/pids/$1" ] && kill -0 "$(cat "$dir/pids/$1")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 100); do port_open "$1" && return 0; sleep 0.1; done; return 1; }
start() { # start <name> <command...>
  local name=$1; shift
  alive "$name" && return 0
  nohup "$@" >>"$dir/logs/$name.log" 2>&1 &
  echo $! >"$dir/pids/$name"
}
pw() { sed -n 's/^PHAROS_MQTT_PASSWORD=//p' "$1"; }

# ---- site broker: operator ops, viewer viewer, bridge identities for both lines ------------
if [ ! -f "$dir/site/dynamic-security.json" ]; then
  python3 "$root/tools/dynsec.py" init "$dir/site" --operator ops --viewer viewer >/dev/null
  python3 "$root/tools/dynsec.py" add-bridge "$dir/site" line-a line-b >/dev/null
fi
"$root/tools/render-broker-config.sh" "$dir/site" "$site_port" "$site_ws" >/dev/null
start site-broker mosquitto -c "$dir/site/mosquitto.conf"
wait_port "$site_port" || die "site broker did not start (logs/site-broker.log)"

# ---- line brokers and their agents ----------------------------------------------------------
for x in a b; do
  line=line-$x node=press-${x}1 ldir=$dir/line-$x
  if [ ! -f "$ldir/dynamic-security.json" ]; then
    # The agent's group read rights on this broker are granted by the anchor (through the
    # bridge: docs/levels.md "Group rights on line brokers"), not here.
    python3 "$root/tools/dynsec.py" init "$ldir" --operator ops --viewer viewer \
      --agent "$node" >/dev/null
  fi
  PHAROS_BROKER_TEMPLATE="$root/broker-config/mosquitto-line.conf" PHAROS_LINE=$line \
    PHAROS_SITE_ADDRESS=127.0.0.1:$site_port PHAROS_BRIDGE_KEEPALIVE=$keepalive \
    PHAROS_BRIDGE_PASSWORD=$(pw "$dir/site/credentials/bridge-$line.env") \
    "$root/tools/render-broker-config.sh" "$ldir" "${line_port[$x]}" "${line_ws[$x]}" >/dev/null
  start "$line-broker" mosquitto -c "$ldir/mosquitto.conf"
  wait_port "${line_port[$x]}" || die "$line broker did not start (logs/$line-broker.log)"
done

# ---- anchor: knows which bridge each line broker's agents sit behind -----------------------
mkdir -p "$dir/anchor"
pw "$dir/site/credentials/anchor.env" >"$dir/anchor.password"
chmod 0600 "$dir/anchor.password"
cat >"$dir/anchor.conf" <<CONF
broker_url = tcp://127.0.0.1:$site_port
username = anchor
password_file = $dir/anchor.password
data_dir = $dir/anchor
viewer = viewer
bridge = bridge-line-a=tcp://127.0.0.1:${line_port[a]}
bridge = bridge-line-b=tcp://127.0.0.1:${line_port[b]}
CONF
start anchor "$build/anchor/pharos-anchor" --config "$dir/anchor.conf"

# ---- one private Docker Engine per line (the line's device), with the example images ------
declare -A engine_host engine_ns
for x in a b; do
  edir=$dir/engine-$x
  engine_host[$x]=$(PHAROS_DOCKERD_PRIVATE=1 "$root/tools/dockerd.sh" start "$edir" \
    2>>"$dir/logs/engine-$x.log" | sed -n 's/^DOCKER_HOST=//p' | tail -1)
  [ -n "${engine_host[$x]}" ] ||
    die "the Docker Engine of line-$x did not start (logs/engine-$x.log, $edir/dockerd.log)"
  engine_ns[$x]=$("$root/tools/dockerd.sh" netns "$edir")
  DOCKER_HOST=${engine_host[$x]} "$root/tools/example-images.sh" >>"$dir/logs/engine-$x.log" 2>&1 ||
    die "building the example images into line-$x's engine failed (logs/engine-$x.log)"
done

for x in a b; do
  node=press-${x}1 ldir=$dir/line-$x
  mkdir -p "$dir/agent-$x"
  pw "$ldir/credentials/agent-$node.env" >"$dir/agent-$x.password"
  chmod 0600 "$dir/agent-$x.password"
  cat >"$dir/agent-$x.conf" <<CONF
node_id = $node
broker_url = tcp://127.0.0.1:${line_port[$x]}
username = $node
password_file = $dir/agent-$x.password
state_file = $dir/agent-$x/state.json
data_dir = $dir/agent-$x
docker_host = ${engine_host[$x]}
label = line=line-$x
CONF
  start "agent-$x" "$build/agent/pharos-agent" --config "$dir/agent-$x.conf"
done

# ---- pharosctl and the group tree ------------------------------------------------------------
pw "$dir/site/credentials/operator-ops.env" >"$dir/ops.password"
chmod 0600 "$dir/ops.password"
cat >"$dir/pharosctl.conf" <<CONF
broker_url = tcp://127.0.0.1:$site_port
username = ops
password_file = $dir/ops.password
CONF
ctl() { "$build/cli/pharosctl" --config "$dir/pharosctl.conf" "$@"; }
for _ in $(seq 60); do
  ctl nodes 2>/dev/null | grep -q press-b1 && ctl nodes 2>/dev/null | grep -q press-a1 && break
  sleep 0.5
done
if [ ! -f "$dir/groups.done" ]; then
  ctl group create plant >/dev/null && ctl group create line-a --parent plant >/dev/null &&
    ctl group create line-b --parent plant >/dev/null &&
    ctl group add line-a press-a1 >/dev/null && ctl group add line-b press-b1 >/dev/null &&
    touch "$dir/groups.done" || log "creating the groups failed: see 'pharosctl group --help'"
fi
cat <<EOF

Three levels are running (state, pids, logs and engines in $dir):
  site broker  tcp://127.0.0.1:$site_port   web UI http://127.0.0.1:$site_ws/   anchor
  line-a       tcp://127.0.0.1:${line_port[a]}   agent press-a1   engine ${engine_host[a]}
  line-b       tcp://127.0.0.1:${line_port[b]}   agent press-b1   engine ${engine_host[b]}
Try:
  $build/cli/pharosctl --config $dir/pharosctl.conf nodes
  $build/cli/pharosctl --config $dir/pharosctl.conf deploy -f $root/examples/hello/compose.yml --group plant --wait
  DOCKER_HOST=${engine_host[a]} docker ps    # press-a1's containers (its own engine)
  ip netns exec ${engine_ns[a]} curl -s http://127.0.0.1:8080/hello.txt    # press-a1's web server
  kill -STOP \$(cat $dir/pids/line-a-broker)   # press-a1 turns Unreachable in 5-7 s (line heartbeat)
  kill -CONT \$(cat $dir/pids/line-a-broker)
Stop: examples/levels/stop.sh   (agents, anchor, brokers, then both engines)
EOF
