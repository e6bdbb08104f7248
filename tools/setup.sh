#!/usr/bin/env bash
# Installs everything Pharos needs to build, run and test on Debian 12, as root:
# the Debian packages in tools/deps.txt and the pinned npm packages (web UI, Sparkplug tests).
# Idempotent: packages already installed are skipped, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "setup: run as root (it installs Debian packages with apt-get)" >&2
  exit 2
fi

mapfile -t wanted < <(grep -vE '^\s*(#|$)' tools/deps.txt)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # force-unsafe-io: dpkg skips its fsync per unpacked file (a fresh machine's first setup
  # installs a few hundred packages; an interrupted install is simply run again).
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io \
    "${missing[@]}" >/dev/null
fi

# The web UI's browser libraries, pinned in web-ui/package.json (never committed).
if [ -f web-ui/package.json ]; then
  if [ ! -d web-ui/node_modules ] || [ web-ui/package.json -nt web-ui/node_modules ]; then
    command -v npm >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq npm >/dev/null; }
    (cd web-ui && npm ci --no-audit --no-fund --silent 2>/dev/null || npm install --no-audit --no-fund --silent)
    touch web-ui/node_modules
  fi
  # One bundled script and stylesheet (web-ui/dist/, esbuild pinned in package.json): the
  # page then costs the broker's HTTP server four requests (docs/web-ui.md).
  (cd web-ui && npm run --silent build >/dev/null) ||
    echo "setup: web UI bundle not built (npm run build in web-ui/): the page loads unbundled" >&2
fi
# The Sparkplug B codec of others the integration tests check pharos-sparkplug against,
# pinned in tests/sparkplug-host/package.json (never committed).
if [ -f tests/sparkplug-host/package.json ]; then
  if [ ! -d tests/sparkplug-host/node_modules ] ||
     [ tests/sparkplug-host/package.json -nt tests/sparkplug-host/node_modules ]; then
    command -v npm >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq npm >/dev/null; }
    (cd tests/sparkplug-host && npm ci --no-audit --no-fund --silent)
    touch tests/sparkplug-host/node_modules
  fi
fi
echo "setup: dependencies present"
