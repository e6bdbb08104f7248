#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (preset "fuzz") and runs each for a bounded
# time (default 10 s; FUZZ_SECONDS=600 for a long run) on its seed corpus, as many at once
# as there are cores. A crash fails the script and leaves the input in build/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-10}
targets=$(for f in fuzz/fuzz_*.cpp; do basename "$f" .cpp; done)
# shellcheck disable=SC2086
tools/build.sh fuzz --target $targets >/dev/null
mkdir -p build/fuzz/artifacts
# One target per core at a time; each prints its own verdict line when it ends.
run_one() {
  local bin=$1 name corpus work start
  name=$(basename "$bin")
  corpus=fuzz/corpus/${name#fuzz_}
  work=build/fuzz/corpus/${name#fuzz_}
  mkdir -p "$work"
  [ -d "$corpus" ] && cp -n "$corpus"/* "$work"/ 2>/dev/null || true
  start=$(date +%s)
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix=build/fuzz/artifacts/"$name"- "$work" >build/fuzz/"$name".log 2>&1; then
    echo "fuzz: $name ok ($(grep -c . "$work"/* 2>/dev/null | wc -l) corpus files, $(( $(date +%s) - start )) s)"
  else
    echo "fuzz: $name FAILED, see build/fuzz/$name.log"; tail -30 build/fuzz/"$name".log
    return 1
  fi
}
jobs_max=$(nproc)
pids=()
for bin in build/fuzz/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do sleep 0.2; done
  run_one "$bin" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
