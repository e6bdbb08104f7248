#!/bin/sh
# Appends one line per heartbeat to /data/beats and logs it; exits 0 on SIGTERM.
trap 'echo "hello-worker: stopping"; exit 0' TERM INT
mkdir -p /data
echo "hello-worker: starting on ${NODE} ($(wc -l < /data/beats 2>/dev/null || echo 0) beats so far)"
while :; do
  line="$(date -u +%Y-%m-%dT%H:%M:%SZ) ${NODE} beat"
  echo "$line" >> /data/beats
  echo "$line"
  sleep "${INTERVAL}" &
  wait $!
done
