#!/bin/bash
# Stops what scripts/rgw/start.sh DATA_DIR started (its PIDs only) and removes DATA_DIR.
DATA=${1:?data dir}
if [ -f "$DATA/pids" ]; then
  pids=$(tac "$DATA/pids")
  for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in $pids; do
    while [ -e "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do sleep 0.05; done
  done
fi
rm -rf "$DATA"
