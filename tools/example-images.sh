#!/bin/sh
# Builds the example images of examples/images/ locally from Debian's static busybox
# (busybox-static): no registry, no network. Each image is FROM scratch + busybox (one
# symlink per applet) + the files of its directory.
#
#   [DOCKER_HOST=unix:///...] tools/example-images.sh [name...]
#
# Default: every directory under examples/images/ (hello-web, hello-worker), tagged
# pharos-example/<name>:1. Uses the legacy builder (DOCKER_BUILDKIT=0): Debian's Docker
# client has no buildx plugin. Idempotent: an unchanged image builds from cache.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
tag_version=${PHAROS_EXAMPLE_TAG:-1}
busybox=${BUSYBOX:-/bin/busybox}

file -L "$busybox" 2>/dev/null | grep -q "statically linked" || {
  echo "example-images: $busybox is not a static busybox (apt-get install busybox-static)" >&2
  exit 1
}
docker info >/dev/null 2>&1 || {
  echo "example-images: no Docker Engine answers (DOCKER_HOST=${DOCKER_HOST:-unset})" >&2
  exit 1
}

if [ $# -eq 0 ]; then
  for d in "$root"/examples/images/*/; do
    set -- "$@" "$(basename "$d")"
  done
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
for name in "$@"; do
  src="$root/examples/images/$name"
  [ -f "$src/Dockerfile" ] || { echo "example-images: no $src/Dockerfile" >&2; exit 2; }
  rm -rf "$ctx/build"
  mkdir -p "$ctx/build/rootfs/bin" "$ctx/build/rootfs/etc" "$ctx/build/rootfs/tmp" \
    "$ctx/build/rootfs/data"
  cp -R "$src"/. "$ctx/build/"
  cp "$busybox" "$ctx/build/rootfs/bin/busybox"
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$ctx/build/rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    >"$ctx/build/rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$ctx/build/rootfs/etc/group"
  chmod 1777 "$ctx/build/rootfs/tmp"
  tag="pharos-example/$name:$tag_version"
  if ! DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx/build" >"$ctx/build.log" 2>&1; then
    cat "$ctx/build.log" >&2
    exit 1
  fi
  echo "example-images: built $tag ($(docker image inspect -f '{{.Id}}' "$tag" | cut -c1-19))"
done
