#!/bin/sh
# Builds the busybox test images locally (no registry needed): FROM scratch + the static
# busybox of Debian's busybox-static + one symlink per applet, /etc/passwd and /etc/group,
# and a default command that runs until SIGTERM (so `docker stop` returns at once).
#
#   DOCKER_HOST=unix:///... tools/test-image.sh [tag...]
#
# Default tags: pharos-test/busybox:1 and pharos-test/busybox:2. Each image carries the
# label io.pharos.test.version=<tag part> and the env TEST_VERSION=<tag part>, so two tags
# have different image ids (an "update" changes the id). Uses the legacy builder
# (DOCKER_BUILDKIT=0): the Docker 28 client has no buildx plugin here.
set -eu

[ $# -gt 0 ] || set -- pharos-test/busybox:1 pharos-test/busybox:2
busybox=${BUSYBOX:-/bin/busybox}
file "$busybox" 2>/dev/null | grep -q "statically linked" || {
  echo "$busybox is not a static busybox (install busybox-static)" >&2
  exit 1
}

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/etc" "$ctx/rootfs/tmp" "$ctx/rootfs/www"
cp "$busybox" "$ctx/rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$ctx/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
  >"$ctx/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ctx/rootfs/etc/group"
echo "pharos test image" >"$ctx/rootfs/www/index.html"
chmod 1777 "$ctx/rootfs/tmp"

for tag in "$@"; do
  version=${tag##*:}
  [ "$version" != "$tag" ] || version=latest
  cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
ENV PATH=/bin TEST_VERSION=$version
LABEL io.pharos.test.version="$version"
CMD ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 1 & wait \$!; done"]
EOF
  if ! DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >"$ctx/build.log" 2>&1; then
    cat "$ctx/build.log" >&2
    exit 1
  fi
  echo "built $tag $(docker image inspect -f '{{.Id}}' "$tag")" >&2
done
