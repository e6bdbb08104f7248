#!/usr/bin/env bash
# The cross check: pharos-agent and pharosctl for arm64 and armhf from this source tree, as
# root on Debian 12 (x86-64), proven under emulation (qemu-user; no board needed):
#   1. tools/setup-cross.sh: cross toolchains, the target libraries, qemu-user-static
#   2. per architecture: the cross-<arch> preset built (agent, pharosctl, unit tests); every
#      header and library the build read comes from the set-up scripts' packages
#      (tools/cross-inputs.sh); the unit tests of libpharos, the agent and pharosctl run under
#      qemu (ctest); the .deb packages (cpack) and their checks: package architecture, ELF
#      machine, dependencies that exist for that architecture in Debian
#   3. per architecture: its agent and pharosctl under qemu against the real broker, the native
#      anchor and the Docker Engine (tests/integration/test_cross_arm.py; never skipped here)
# Options: --smoke (arm64 only, agent and pharosctl only, its unit tests only: the short step
# of tools/test.sh), --arch ARCH (one architecture), --no-itest (skip step 3), --no-unit (the
# agent and pharosctl only: no unit tests built or run; packages and their checks as usual).
# Packages land in build/cross-<arch>/packages. Each step prints its time.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

smoke=0
unit=1
itest=1
arches=(arm64 armhf)
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1; arches=(arm64); itest=0 ;;
    --arch) arches=("$2"); shift ;;
    --no-itest) itest=0 ;;
    --no-unit) unit=0 ;;
    *) echo "usage: tools/cross.sh [--smoke] [--arch arm64|armhf] [--no-itest] [--no-unit]" >&2
       exit 2 ;;
  esac
  shift
done
jobs=$(nproc)
[ "$jobs" -le 2 ] || jobs=2  # shared build machines: two compile jobs at most

t0=$(date +%s)
step() { echo; echo "=== cross: $1 ($(( $(date +%s) - t0 )) s elapsed)"; }
fail() { echo "cross: $*" >&2; exit 1; }

step "setup (${arches[*]})"
tools/setup-cross.sh "${arches[@]}"

elf_machine() { readelf -h "$1" | sed -n 's/^ *Machine: *//p'; }

# The .deb files of one architecture: the package's architecture, the ELF machine of its
# programs, and dependencies Debian has for that architecture (never -dev, never amd64-only).
check_packages() {
  local arch=$1 dir=$2 machine=$3 deb pkg field dep extract
  for pkg in pharos-agent pharosctl; do
    deb=$(ls "$dir"/${pkg}_*_"$arch".deb 2>/dev/null | head -1)
    [ -n "$deb" ] || fail "no ${pkg}_*_$arch.deb in $dir"
    field=$(dpkg-deb -f "$deb" Architecture)
    [ "$field" = "$arch" ] || fail "$deb: Architecture $field, expected $arch"
    extract=$(mktemp -d)
    dpkg-deb -x "$deb" "$extract"
    [ "$(elf_machine "$extract/usr/bin/$pkg")" = "$machine" ] ||
      fail "$deb: /usr/bin/$pkg is $(elf_machine "$extract/usr/bin/$pkg"), expected $machine"
    rm -rf "$extract"
    field=$(dpkg-deb -f "$deb" Depends)
    echo "$pkg ($arch) Depends: $field"
    case "$field" in *libc6*) ;; *) fail "$deb: Depends names no libc6 (dpkg-shlibdeps?)" ;; esac
    for dep in $(echo "$field" | tr ',|' '\n\n' | sed 's/(.*)//; s/ //g' | grep -v '^$'); do
      case "$dep" in *-dev) fail "$deb: depends on a -dev package: $dep" ;; esac
      apt-cache show "$dep:$arch" >/dev/null 2>&1 ||
        apt-cache show "$dep" 2>/dev/null | grep -q '^Architecture: all' ||
        fail "$deb: dependency $dep does not exist for $arch in Debian"
    done
  done
  echo "packages ($arch):"
  ls -l "$dir"/*.deb
}

for arch in "${arches[@]}"; do
  preset=cross-$arch
  build=build/$preset
  case "$arch" in
    arm64) machine=AArch64 ;;
    armhf) machine=ARM ;;
    *) fail "unknown architecture $arch" ;;
  esac
  step "configure and build $preset"
  b0=$(date +%s)
  cmake --preset "$preset" >/dev/null
  if [ $smoke = 1 ]; then
    cmake --build "$build" -j"$jobs" --target pharos-agent pharosctl agent_unit_tests
  elif [ $unit = 0 ]; then
    cmake --build "$build" -j"$jobs" --target pharos-agent pharosctl
  else
    cmake --build --preset "$preset" -j"$jobs"
  fi
  echo "build $preset: $(( $(date +%s) - b0 )) s"
  [ "$(elf_machine "$build/agent/pharos-agent")" = "$machine" ] ||
    fail "$build/agent/pharos-agent is not $machine"

  step "build inputs ($arch): only what the set-up scripts install"
  tools/cross-inputs.sh "$arch" "$build"

  if [ $unit = 1 ]; then
    step "unit tests under qemu ($arch)"
    u0=$(date +%s)
    if [ $smoke = 1 ]; then
      ctest --test-dir "$build" -R '^agent_unit_tests$' --output-on-failure --timeout 900
    else
      ctest --test-dir "$build" -L unit --output-on-failure --timeout 900
    fi
    echo "unit tests $arch: $(( $(date +%s) - u0 )) s"
  fi

  if [ $smoke = 0 ]; then
    step "packages ($arch)"
    rm -rf "$build/packages"
    (cd "$build" && cpack -G DEB -B "$root/$build/packages" >/dev/null)
    rm -rf "$build/packages/_CPack_Packages"
    check_packages "$arch" "$build/packages" "$machine"
  fi
done

if [ $itest = 1 ]; then
  native=$(realpath -m "${PHAROS_BUILD_DIR:-build/ci}")  # relative to the tree, or absolute
  step "integration under qemu: ${arches[*]} agent and pharosctl, native anchor ($native)"
  i0=$(date +%s)
  if [ ! -x "$native/anchor/pharos-anchor" ]; then
    [ "$native" = "$root/build/ci" ] || fail "no pharos-anchor in PHAROS_BUILD_DIR=$native"
    cmake --preset ci >/dev/null
    cmake --build "$native" -j"$jobs" --target pharos-anchor
  fi
  engine_dir=$root/build/cross-dockerd
  eval "$(tools/dockerd.sh start "$engine_dir" | grep '^DOCKER_HOST=')"
  export DOCKER_HOST
  trap 'tools/dockerd.sh stop "$engine_dir" >/dev/null 2>&1 || true' EXIT
  # Only the architectures of this run (a build directory of another may be stale).
  select=$(printf ' or %s' "${arches[@]}")
  PHAROS_BUILD_DIR=$native PHAROS_CROSS_ARM64_DIR=$root/build/cross-arm64 \
    PHAROS_CROSS_ARMHF_DIR=$root/build/cross-armhf PHAROS_CROSS_REQUIRED="${arches[*]}" \
    /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider -k "${select# or }" \
    tests/integration/test_cross_arm.py
  echo "integration ${arches[*]}: $(( $(date +%s) - i0 )) s"
fi
echo "cross check passed (${arches[*]}): $(( $(date +%s) - t0 )) s"
