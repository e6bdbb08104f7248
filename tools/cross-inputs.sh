#!/usr/bin/env bash
# Checks that a cross build used only what the set-up scripts install: every file outside the
# source tree that it read (the headers in the compilers' dependency files, the libraries on
# its link lines) belongs to a package of tools/deps-cross.txt (tools/setup-cross.sh) or
# tools/deps.txt (tools/setup.sh), or to one of their dependencies, or lies under
# /opt/pharos-cross/<arch> (unpacked by tools/setup-cross.sh). Run by tools/cross.sh after each
# build; prints the packages read, and every file that fails the check.
# Usage: tools/cross-inputs.sh ARCH BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: tools/cross-inputs.sh ARCH BUILD_DIR" >&2; exit 2; }
arch=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The targets of the build as configured now (a reconfigure leaves the files of targets it
# dropped behind): their object files' dependency lists and their link lines.
cmake --build "$build" --target help | sed -n 's/^\.\.\. \([^ ]*\).*/\1/p' >"$tmp/targets"
: >"$tmp/dirs"
while read -r target; do
  find "$build" -type d -path "*/CMakeFiles/$target.dir" >>"$tmp/dirs"
done <"$tmp/targets"
[ -s "$tmp/dirs" ] || { echo "cross-inputs: no targets in $build" >&2; exit 1; }
xargs -a "$tmp/dirs" -I{} find {} -name '*.o.d' -print0 | xargs -0 -r cat | tr ' \\' '\n\n' |
  grep '^/' | grep -v "^$(pwd)/" | sort -u >"$tmp/files" || true
xargs -a "$tmp/dirs" -I{} find {} -maxdepth 1 -name link.txt -print0 | xargs -0 -r cat |
  tr ' ' '\n' | grep -E '^/.*\.(so[.0-9]*|a)$' | sort -u | while read -r lib; do
    echo "$lib"
    readlink -f "$lib"
  done >>"$tmp/files"
sort -u -o "$tmp/files" "$tmp/files"
[ -s "$tmp/files" ] || { echo "cross-inputs: nothing built in $build" >&2; exit 1; }

# The packages the set-up scripts name, for this architecture, and everything they depend on.
wanted=$( (sed "s/@ARCH@/$arch/g; s/^unpack //" tools/deps-cross.txt; cat tools/deps.txt) |
  grep -vE '^\s*(#|$)' | awk '{print $1}')
# shellcheck disable=SC2086
apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances $wanted 2>/dev/null | grep -v '^ ' | sed 's/^<//; s/>$//' |
  sort -u >"$tmp/allowed"

# dpkg -S prints "pkg[:arch][, pkg...]: path" per file it knows (diversions aside).
grep -v "^/opt/pharos-cross/$arch/" "$tmp/files" | xargs -r dpkg -S 2>/dev/null |
  grep -v '^diversion ' >"$tmp/owners" || true
bad=0
used=()
while read -r file; do
  case "$file" in
    /opt/pharos-cross/"$arch"/*) used+=("(unpacked) libyaml-cpp-dev:$arch"); continue ;;
  esac
  line=$(grep -F ": $file" "$tmp/owners" | awk -v f="$file" 'substr($0, length($0) - length(f) + 1) == f' |
    head -1)
  if [ -z "$line" ]; then
    echo "cross-inputs: $file belongs to no package" >&2
    bad=1
    continue
  fi
  found=""
  for owner in $(echo "${line%: /*}" | tr ',' ' '); do
    if grep -qxF "$owner" "$tmp/allowed" || grep -qxF "${owner%:amd64}" "$tmp/allowed"; then
      found=$owner
      break
    fi
  done
  if [ -n "$found" ]; then
    used+=("$found")
  else
    echo "cross-inputs: $file comes from ${line%: /*}, which the set-up scripts do not install" >&2
    bad=1
  fi
done <"$tmp/files"
echo "cross-inputs ($arch): $(wc -l <"$tmp/files") files read, from:"
printf '%s\n' "${used[@]}" | sort -u | tr '\n' ' '
echo
exit $bad
