#!/usr/bin/env bash
# Creates the site CA and certificates for a test or small Pharos site (openssl CLI,
# ECDSA P-256). Production sites with their own PKI skip this and put their files in the
# same places (broker-config/mosquitto-tls.conf reads ca.crt, server.crt, server.key).
#
#   tools/make-ca.sh DIR [NAME...]          CA (once) + server certificate for NAMEs
#   tools/make-ca.sh DIR --client ID        CA (once) + client certificate CN=ID (mutual TLS)
#
# DIR/ca.crt, ca.key     the site CA (10 years); created only when missing, never replaced.
#                        ca.key stays mode 0600: keep it offline on a real site.
# DIR/server.crt, .key   subjectAltName = every NAME (IP addresses as IP:, others as DNS:);
#                        default: this host's name, localhost and 127.0.0.1. 825 days.
#                        Replaced on every run (rotation: re-run, restart the broker).
# DIR/client-ID.crt,.key client certificate for `require_certificate true` (CN = ID, the
#                        node id or user name). 825 days.
#
# Keys are written mode 0600; when run as root, server.key is made readable by the broker
# user's group (PHAROS_BROKER_USER, default mosquitto) — mosquitto drops privileges first.
# Agents and pharosctl get ca.crt only (tls_ca = / --tls-ca).
set -euo pipefail

usage() {
  echo "usage: tools/make-ca.sh DIR [NAME...] | tools/make-ca.sh DIR --client ID" >&2
  exit 2
}
[ $# -ge 1 ] || usage
dir=$1
shift
client=""
if [ "${1:-}" = "--client" ]; then
  [ $# -eq 2 ] || usage
  client=$2
  [[ $client =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || {
    echo "make-ca.sh: client id '$client' must match [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?" >&2
    exit 2
  }
  shift 2
fi
command -v openssl >/dev/null || { echo "make-ca.sh: openssl is not installed" >&2; exit 1; }

umask 077
mkdir -p "$dir"
cd "$dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)

if [ ! -f ca.crt ] || [ ! -f ca.key ]; then
  openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 3650 -sha256 \
    -subj "/CN=Pharos site CA $(hostname -s 2>/dev/null || echo site)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  chmod 0644 ca.crt
  echo "make-ca.sh: created the CA $dir/ca.crt (keep $dir/ca.key private)"
fi

# sign NAME CN EXTFILE: NAME.key + NAME.crt signed by the CA.
sign() {
  local name=$1 cn=$2 ext=$3
  openssl req "${ec[@]}" -keyout "$name.key.tmp" -out "$name.csr" -subj "/CN=$cn" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out "$name.crt.tmp" -days 825 -sha256 -extfile "$ext" 2>/dev/null
  rm -f "$name.csr" "$ext"
  mv "$name.key.tmp" "$name.key"
  mv "$name.crt.tmp" "$name.crt"
  chmod 0600 "$name.key"
  chmod 0644 "$name.crt"
}

if [ -n "$client" ]; then
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' \
    >client.ext
  sign "client-$client" "$client" client.ext
  echo "make-ca.sh: client certificate $dir/client-$client.crt (CN=$client)"
  exit 0
fi

[ $# -gt 0 ] || set -- "$(hostname -f 2>/dev/null || hostname)" localhost 127.0.0.1
san=""
for name in "$@"; do
  if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then
    san+="${san:+,}IP:$name"
  else
    san+="${san:+,}DNS:$name"
  fi
done
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
  "$san" >server.ext
sign server "$1" server.ext
broker_user=${PHAROS_BROKER_USER:-mosquitto}
if [ "$(id -u)" = 0 ] && id "$broker_user" >/dev/null 2>&1; then
  chgrp "$(id -gn "$broker_user")" server.key
  chmod 0640 server.key
  chmod 0755 .
fi
echo "make-ca.sh: server certificate $dir/server.crt for $san"
