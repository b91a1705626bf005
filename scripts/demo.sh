#!/usr/bin/env bash
# The Gác demo on the embedded default: builds the binaries, starts gac-server on
# loopback with a fresh data directory, feeds it the real sample logs in demo/logs over
# syslog TCP and UDP, then shows what an analyst sees with `gac`.
# Leaves the data in ./demo-data; pass --keep to leave the server running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
KEEP=0; [ "${1:-}" = "--keep" ] && KEEP=1
SYSLOG_PORT=${GAC_DEMO_SYSLOG_PORT:-5514}
API=${GAC_DEMO_API:-127.0.0.1:7710}
DATA=$PWD/demo-data

command -v logger >/dev/null || { echo "installing util-linux logger"; apt-get update -qq && apt-get install -y -qq bsdutils; }
echo "== building (first time: a few minutes)"
cargo build --bins -q
BIN=$PWD/target/debug

rm -rf "$DATA"
"$BIN/gac-server" --config "$DATA/gac-server.toml" init --data-dir "$DATA/data" \
  --syslog-port "$SYSLOG_PORT" --api-listen "$API" --detections "$PWD/detections" >/dev/null
sed -i "s/0.0.0.0:/127.0.0.1:/" "$DATA/gac-server.toml"
# RFC 3164 records carry no zone: the server applies the zone of the sending hosts. Here
# the senders are this machine, so use its zone (a province's config keeps
# Asia/Ho_Chi_Minh). Retention 0: the sample logs are historic and must stay.
ZONE=$(cat /etc/timezone 2>/dev/null || echo Etc/UTC)
sed -i "s|^timezone = .*|timezone = \"$ZONE\"|; s|^retention_days = .*|retention_days = 0|" "$DATA/gac-server.toml"
export GAC_SERVER="http://$API" GAC_TOKEN
GAC_TOKEN=$(cat "$DATA/data/admin.token")

"$BIN/gac-server" --config "$DATA/gac-server.toml" run 2>"$DATA/server.log" &
SERVER=$!
stop() { kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true; }
[ $KEEP = 1 ] || trap stop EXIT
for _ in $(seq 100); do "$BIN/gac" stats >/dev/null 2>&1 && break; sleep 0.2; done
echo "== gac-server is up: syslog on 127.0.0.1:$SYSLOG_PORT (udp+tcp), API on $API"

sent=0
for f in demo/logs/loghub/*.log; do
  # Lines as syslog files hold them (no priority), newline-framed over TCP.
  cat "$f" > "/dev/tcp/127.0.0.1/$SYSLOG_PORT"
  sent=$((sent + $(wc -l < "$f")))
done
# And live messages from a real syslog client, as a host or a device would send them.
logger --server 127.0.0.1 --port "$SYSLOG_PORT" --udp --rfc3164 -t sshd -p auth.warning \
  "Failed password for invalid user admin from 203.0.113.50 port 50022 ssh2"
logger --server 127.0.0.1 --port "$SYSLOG_PORT" --tcp --rfc5424 -t portal -p local0.notice \
  --msgid LOGIN --sd-id "gac@32473" --sd-param 'unit="so-tttt"' "citizen login from 198.51.100.7"
sent=$((sent + 2))
# The attack of the last ten minutes (see demo/attack.sh): brute force, a login, sudo,
# a new privileged user, web probing, a port scan.
bash demo/attack.sh > "$DATA/attack.log"
cat "$DATA/attack.log" > "/dev/tcp/127.0.0.1/$SYSLOG_PORT"
sent=$((sent + $(wc -l < "$DATA/attack.log")))
echo "== sent $sent records; waiting until they are searchable"
for _ in $(seq 150); do
  n=$("$BIN/gac" search 'NOT event.kind:alert' --limit 0 | tail -1 | awk '{print $4}')
  [ "${n:-0}" -ge "$sent" ] && break; sleep 0.2
done

run() { echo; echo "\$ gac $*"; "$BIN/gac" "$@"; }
run search '"Failed password" AND root' --limit 8
run top host.name
run top log.syslog.appname --size 5
run search 'log.syslog.msgid:LOGIN OR "invalid user admin"'
run histogram 'sshd' --interval-secs 86400
echo; echo "== the attack, as detections saw it"
run search 'event.kind:alert' --since 1h --limit 30
run top rule.name 'event.kind:alert' --since 1h
run stats
echo
if [ $KEEP = 1 ]; then
  echo "gac-server is still running (pid $SERVER). Try:"
  echo "  export GAC_SERVER=$GAC_SERVER GAC_TOKEN=$GAC_TOKEN"
  echo "  $BIN/gac search 'Invalid user' --limit 20"
  echo "Stop it with: kill $SERVER"
else
  echo "Done. Run 'scripts/demo.sh --keep' to explore afterwards; data is in $DATA."
fi
