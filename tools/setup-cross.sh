#!/usr/bin/env bash
# Installs what cross-building Pharos (agent and pharosctl) needs, as root on Debian 12:
# the cross toolchains, the target libraries of tools/deps-cross.txt and qemu-user-static
# (runs the target's binaries for the tests). Not part of tools/setup.sh: it adds the arm64
# and armhf architectures to dpkg and installs ~150 packages; tools/cross.sh and the smoke
# step of tools/test.sh run it. Idempotent: a second run only checks.
# Usage: tools/setup-cross.sh [ARCH...]   (ARCH: arm64, armhf; default both)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "setup-cross: run as root (it adds dpkg architectures and installs packages)" >&2
  exit 2
fi
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(arm64 armhf)
for arch in "${arches[@]}"; do
  case "$arch" in arm64 | armhf) ;; *) echo "setup-cross: unknown architecture $arch" >&2; exit 2 ;; esac
done

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# Expand the list for each architecture: packages to install, -dev packages to unpack.
install=()
unpack=()
while read -r line; do
  for arch in "${arches[@]}"; do
    entry=${line//@ARCH@/$arch}
    case "$entry" in
      unpack\ *) unpack+=("${entry#unpack }") ;;
      *:"$arch") install+=("${entry%:*}" "$entry") ;;  # amd64 twin keeps versions equal
      *) install+=("$entry") ;;
    esac
    [ "$entry" = "$line" ] && [[ "$line" != *:* ]] && break  # architecture-free: once
  done
done < <(grep -vE '^\s*(#|$)' tools/deps-cross.txt)
mapfile -t install < <(printf '%s\n' "${install[@]}" | awk '!seen[$0]++')

export DEBIAN_FRONTEND=noninteractive
added=0
for arch in "${arches[@]}"; do
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    dpkg --add-architecture "$arch"
    added=1
  fi
done
missing=()
for pkg in "${install[@]}"; do installed "$pkg" || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ] || [ $added = 1 ]; then
  apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-cross: installing ${#missing[@]} packages: ${missing[*]}"
  # --no-remove: never trade an installed amd64 package for a target one.
  apt-get install -y -qq --no-remove "${install[@]}" >/dev/null
fi

# -dev packages that are Multi-Arch: no, unpacked beside the system (their shared library
# comes from the runtime package installed above).
for pkg in "${unpack[@]}"; do
  name=${pkg%:*} arch=${pkg##*:}
  dest=/opt/pharos-cross/$arch
  version=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
  stamp=$dest/.$name.version
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ]; then continue; fi
  tmp=$(mktemp -d)
  chmod 755 "$tmp"  # apt-get download runs as _apt
  (cd "$tmp" && apt-get download -qq "$pkg=$version")
  mkdir -p "$dest"
  dpkg-deb -x "$tmp"/*.deb "$dest"
  rm -rf "$tmp"
  echo "$version" >"$stamp"
  echo "setup-cross: unpacked $pkg $version into $dest"
done
# The unpacked CMake files name the shared library in the unpacked tree: link the installed
# library files (libNAME.so.*) there.
for dir in /opt/pharos-cross/*/usr/lib/*-linux-gnu*; do
  [ -d "$dir" ] || continue
  for link in "$dir"/*.so; do
    [ -L "$link" ] || continue
    for real in /usr/lib/"$(basename "$dir")"/"$(basename "$link")".*; do
      [ -e "$real" ] && ln -sf "$real" "$dir/$(basename "$real")"
    done
  done
done
echo "setup-cross: cross toolchains and target libraries present for ${arches[*]}"
