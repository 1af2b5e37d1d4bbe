#!/bin/bash
# Single-node Ceph RADOS Gateway as a throw-away S3 endpoint (tests and bench:store), after
# /work/shared/notes/ceph-rgw-recipe.md: one mon, one memstore OSD (data in RAM), radosgw, no mgr,
# no cephx; ~1 s from nothing to a bucket-ready user. Needs the Debian packages radosgw ceph-mon
# ceph-osd ceph-common.
#   scripts/rgw/start.sh DATA_DIR [RGW_PORT] [MON_PORT]   (stop: scripts/rgw/stop.sh DATA_DIR)
# Prints the endpoint and credentials as one JSON line on success (also in DATA_DIR/s3.json).
set -euo pipefail
DATA=${1:?data dir}; PORT=${2:-7490}; MON=${3:-3391}
MONV1=$((MON + 1))
rm -rf "$DATA"; mkdir -p "$DATA"/{mon,osd,run,log,rgw}
FSID=$(cat /proc/sys/kernel/random/uuid)
CONF=$DATA/ceph.conf
cat > "$CONF" <<CFG
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON,v1:127.0.0.1:$MONV1]
mon initial members = a
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
# radosgw forces "secure" mon mode, which cannot work without cephx.
ms mon client mode = crc
keyring = /dev/null
run dir = $DATA/run
admin socket = $DATA/run/\$cluster-\$name.asok
log file = $DATA/log/\$cluster-\$name.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
# Each monitor write otherwise waits 1 s: 12 s cold start instead of 1 s.
paxos propose interval = 0.01
[mon]
mon data = $DATA/mon/\$cluster-\$id
[osd]
osd data = $DATA/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 4294967296
[client.rgw.a]
rgw data = $DATA/rgw
rgw frontends = beast endpoint=127.0.0.1:$PORT
CFG
bg() { local name=$1; shift; "$@" >"$DATA/log/$name.out" 2>&1 & echo "$!" >>"$DATA/pids"; }
wait_for() {
  local limit=$1 what=$2; shift 2; local end=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    local dead=""; for pid in $(cat "$DATA/pids"); do kill -0 "$pid" 2>/dev/null || dead=1; done
    if [ -n "$dead" ] || [ "$(date +%s)" -ge "$end" ]; then
      echo "failed waiting for $what (daemon exited: ${dead:-no})" >&2
      tail -n 5 "$DATA"/log/*.out "$DATA"/log/*.log >&2 || true; exit 1
    fi
    sleep 0.2
  done
}
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON,v1:127.0.0.1:$MONV1]" "$DATA/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$DATA/monmap"
bg mon ceph-mon -f -c "$CONF" -i a
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$(ceph -c "$CONF" osd new "$OSD_UUID")
mkdir -p "$DATA/osd/ceph-$OSD_ID"
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" >"$DATA/log/osd-mkfs.out" 2>&1
bg osd ceph-osd -f -c "$CONF" -i "$OSD_ID"
wait_for 60 "osd up" sh -c "ceph -c '$CONF' osd stat | grep -q ' 1 up'"
bg rgw radosgw -f -c "$CONF" -n client.rgw.a
wait_for 60 "radosgw" sh -c "curl -sf http://127.0.0.1:$PORT/ | grep -q ListAllMyBucketsResult"
SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 32)
radosgw-admin -c "$CONF" user create --uid=snap86 --display-name=snap86 --access-key=SNAP86TESTKEY --secret="$SECRET" >"$DATA/user.json"
printf '{"endpoint":"http://127.0.0.1:%s","accessKeyId":"SNAP86TESTKEY","secretAccessKey":"%s","region":"us-east-1","server":"radosgw %s"}\n' \
  "$PORT" "$SECRET" "$(radosgw --version | awk '{print $3}')" | tee "$DATA/s3.json"
