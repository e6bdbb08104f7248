#!/bin/sh
# Renders broker-config/mosquitto.conf (the template) into <data-dir>/mosquitto.conf.
#
#   tools/render-broker-config.sh <data-dir> <tcp-port> <ws-port> [web-ui-dir]
#
# <data-dir> is created if missing and made absolute. [web-ui-dir] defaults to the
# repository's web-ui/. Environment:
#   PHAROS_BROKER_USER      user mosquitto drops to when started as root (default mosquitto)
#   PHAROS_BROKER_TEMPLATE  template to render (default broker-config/mosquitto.conf;
#                           broker-config/mosquitto-tls.conf for the TLS listeners)
#   PHAROS_TLS_DIR          directory with ca.crt, server.crt, server.key for the TLS
#                           template (default <data-dir>/tls)
#   PHAROS_TLS_BIND, PHAROS_TLS_PORT, PHAROS_WSS_PORT
#                           TLS listeners of the TLS template (default 0.0.0.0, 8883, 8884)
#   PHAROS_LINE, PHAROS_SITE_ADDRESS, PHAROS_BRIDGE_PASSWORD, PHAROS_BRIDGE_KEEPALIVE
#                           the line-broker template broker-config/mosquitto-line.conf
#                           (bridge to the site broker; docs/levels.md)
# When run as root, <data-dir> (and the files mosquitto writes there) is chowned to
# PHAROS_BROKER_USER, because mosquitto opens its persistence and dynamic-security files
# after dropping privileges. Prints the path of the rendered file.
set -eu

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  echo "usage: $0 <data-dir> <tcp-port> <ws-port> [web-ui-dir]" >&2
  exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
data_dir=$1
tcp_port=$2
ws_port=$3
web_ui=${4:-$root/web-ui}
broker_user=${PHAROS_BROKER_USER:-mosquitto}
tls_dir=${PHAROS_TLS_DIR:-}
tls_bind=${PHAROS_TLS_BIND:-0.0.0.0}
tls_port=${PHAROS_TLS_PORT:-8883}
wss_port=${PHAROS_WSS_PORT:-8884}
template=${PHAROS_BROKER_TEMPLATE:-$root/broker-config/mosquitto.conf}

for port in "$tcp_port" "$ws_port" "$tls_port" "$wss_port"; do
  case $port in
    '' | *[!0-9]*) echo "$0: port '$port' is not a number" >&2; exit 2 ;;
  esac
done
[ -f "$template" ] || { echo "$0: template $template not found" >&2; exit 1; }
[ -d "$web_ui" ] || { echo "$0: web UI directory $web_ui not found" >&2; exit 1; }

mkdir -p "$data_dir"
data_dir=$(cd "$data_dir" && pwd)
web_ui=$(cd "$web_ui" && pwd)
tls_dir=${tls_dir:-$data_dir/tls}
for path in "$data_dir" "$web_ui" "$tls_dir"; do
  case $path in
    *'|'* | *' '*) echo "$0: path '$path' must not contain '|' or spaces" >&2; exit 1 ;;
  esac
done

out="$data_dir/mosquitto.conf"
sed -e "s|@PHAROS_DATA@|$data_dir|g" \
    -e "s|@PHAROS_TCP_PORT@|$tcp_port|g" \
    -e "s|@PHAROS_WS_PORT@|$ws_port|g" \
    -e "s|@PHAROS_WEB_UI@|$web_ui|g" \
    -e "s|@PHAROS_BROKER_USER@|$broker_user|g" \
    -e "s|@PHAROS_TLS_DIR@|$tls_dir|g" \
    -e "s|@PHAROS_TLS_BIND@|$tls_bind|g" \
    -e "s|@PHAROS_TLS_PORT@|$tls_port|g" \
    -e "s|@PHAROS_WSS_PORT@|$wss_port|g" \
    -e "s|@PHAROS_LINE@|${PHAROS_LINE:-}|g" \
    -e "s|@PHAROS_SITE_ADDRESS@|${PHAROS_SITE_ADDRESS:-}|g" \
    -e "s|@PHAROS_BRIDGE_PASSWORD@|${PHAROS_BRIDGE_PASSWORD:-}|g" \
    -e "s|@PHAROS_BRIDGE_KEEPALIVE@|${PHAROS_BRIDGE_KEEPALIVE:-10}|g" \
    "$template" > "$out.tmp"
if grep -q '@PHAROS_[A-Z_]*@' "$out.tmp"; then
  echo "$0: unrendered placeholders left in $out.tmp:" >&2
  grep -n '@PHAROS_[A-Z_]*@' "$out.tmp" >&2
  exit 1
fi
mv "$out.tmp" "$out"
chmod 0644 "$out"

if [ "$(id -u)" = 0 ] && [ "$broker_user" != root ]; then
  chown "$broker_user" "$data_dir"
  for f in "$data_dir/dynamic-security.json" "$data_dir/mosquitto.db"; do
    [ -e "$f" ] && chown "$broker_user" "$f"
  done
fi
echo "$out"
