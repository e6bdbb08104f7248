#!/bin/sh
# Appends one line per heartbeat to /data/beats and logs it; exits 0 on SIGTERM.
# INTERVAL is whole seconds; anything else (a typo like "5s") exits 1 at once.
trap 'echo "hello-worker: stopping"; exit 0' TERM INT
case "${INTERVAL}" in
  '' | *[!0-9]*) echo "hello-worker: INTERVAL '${INTERVAL}' is not whole seconds" >&2; exit 1 ;;
esac
mkdir -p /data
echo "hello-worker: starting on ${NODE} ($(wc -l < /data/beats 2>/dev/null || echo 0) beats so far)"
while :; do
  line="$(date -u +%Y-%m-%dT%H:%M:%SZ) ${NODE} beat"
  echo "$line" >> /data/beats
  echo "$line"
  sleep "${INTERVAL}" &
  wait $!
done
