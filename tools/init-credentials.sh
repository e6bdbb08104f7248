#!/bin/sh
# Creates the broker identities of a Pharos site, without a running broker:
#   <data-dir>/dynamic-security.json   the Mosquitto dynamic-security file (roles, clients,
#                                      PBKDF2-SHA512 password hashes), owned by user
#                                      mosquitto when run as root
#   <data-dir>/credentials/*.env       generated passwords, mode 0600, never committed:
#                                      admin.env, anchor.env, operator-<u>.env,
#                                      viewer-<u>.env, agent-<node>.env
#
#   tools/init-credentials.sh <data-dir> [--operator NAME]... [--viewer NAME]...
#                                        [--agent NODE]... [--force]
#
# Defaults: one operator `ops`, one viewer `viewer`, no agents (the anchor enrols devices
# with node.add at run time). Refuses to replace an existing file unless --force (which
# also replaces every password). See broker-config/README.md for the roles.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ]; then
  echo "usage: $0 <data-dir> [--operator NAME]... [--viewer NAME]... [--agent NODE]... [--force]" >&2
  exit 2
fi
umask 077
exec /usr/bin/python3 "$here/dynsec.py" init "$@"
