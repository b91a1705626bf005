#!/usr/bin/env bash
# The Gác demo on the embedded default: builds the binaries, starts gac-server on
# loopback with a fresh data directory, enrolls a gac-agent that tails the real sample
# logs in demo/logs (and a file the demo keeps appending to) and ships them over mutual
# TLS, sends live messages and an attack over syslog TCP and UDP, then shows what an
# analyst sees with `gac`.
# Leaves the data in ./demo-data; pass --keep to leave the server running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
KEEP=0; [ "${1:-}" = "--keep" ] && KEEP=1
SYSLOG_PORT=${GAC_DEMO_SYSLOG_PORT:-5514}
API=${GAC_DEMO_API:-127.0.0.1:7710}
AGENT_LISTEN=${GAC_DEMO_AGENT:-127.0.0.1:7711}
DATA=$PWD/demo-data

command -v logger >/dev/null || { echo "installing util-linux logger"; apt-get update -qq && apt-get install -y -qq bsdutils; }
# jemalloc (gac-server's allocator) is built from C with make.
command -v make >/dev/null || { echo "installing make"; apt-get update -qq && apt-get install -y -qq make; }
echo "== building (first time: a few minutes)"
cargo build --bins -q
BIN=$PWD/target/debug

rm -rf "$DATA"
"$BIN/gac-server" --config "$DATA/gac-server.toml" init --data-dir "$DATA/data" \
  --syslog-port "$SYSLOG_PORT" --api-listen "$API" --agent-listen "$AGENT_LISTEN" --detections "$PWD/detections" >/dev/null
sed -i "s/0.0.0.0:/127.0.0.1:/" "$DATA/gac-server.toml"
# RFC 3164 records carry no zone: the server applies the zone of the sending hosts. Here
# the senders are this machine, so use its zone (a province's config keeps
# Asia/Ho_Chi_Minh). Retention 0: the sample logs are historic and must stay.
ZONE=$(cat /etc/timezone 2>/dev/null || echo Etc/UTC)
sed -i "s|^timezone = .*|timezone = \"$ZONE\"|; s|^retention_days = .*|retention_days = 0|" "$DATA/gac-server.toml"
export GAC_SERVER="http://$API" GAC_TOKEN
GAC_TOKEN=$(cat "$DATA/data/admin.token")

"$BIN/gac-server" --config "$DATA/gac-server.toml" run 2>"$DATA/server.log" &
SERVER=$! AGENT= LIVE=
# On exit: stop the live writer; without --keep, the agent and the server too.
stop() {
  local p
  for p in $LIVE $([ $KEEP = 1 ] || echo "$AGENT $SERVER"); do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
}
trap stop EXIT
for _ in $(seq 100); do "$BIN/gac" stats >/dev/null 2>&1 && break; sleep 0.2; done
echo "== gac-server is up: syslog on 127.0.0.1:$SYSLOG_PORT (udp+tcp), API on $API, agents on $AGENT_LISTEN"

# The agent, with its state and machine id under demo-data (nothing in /etc). It tails
# the sample logs (lines as syslog files hold them) and live.log, which a writer appends
# to a few lines a second while the demo runs.
LIVE_LOG=$DATA/live.log
: >"$LIVE_LOG"
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$DATA/agent-machine-id"
printf '%s\n' "state_dir = \"$DATA/agent\"" "machine_id_path = \"$DATA/agent-machine-id\"" \
  'hostname = "demo-host"' '[ship]' 'heartbeat_secs = 2' '[files]' 'poll_interval_ms = 100' \
  '[[files.input]]' "paths = [\"$PWD/demo/logs/loghub/*.log\", \"$LIVE_LOG\"]" \
  >"$DATA/gac-agent.toml"
"$BIN/gac-agent" --config "$DATA/gac-agent.toml" enroll --server "https://$AGENT_LISTEN" \
  --token "$("$BIN/gac-server" --config "$DATA/gac-server.toml" token create --enroll)"
"$BIN/gac-agent" --config "$DATA/gac-agent.toml" run 2>"$DATA/agent.log" &
AGENT=$!
(for i in $(seq 1500); do # at most about five minutes
  echo "$(date '+%b %e %H:%M:%S') demo-host portal[2211]: request $i served to 198.51.100.$((i % 250 + 1)) in $((i % 90 + 10)) ms" >>"$LIVE_LOG"
  sleep 0.2
done) &
LIVE=$!
shipped=$(cat demo/logs/loghub/*.log | wc -l)
echo "== gac-agent is running (log in $DATA/agent.log): tailing demo/logs/loghub/*.log ($shipped lines) and $LIVE_LOG"

sent=0
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
echo "== sent $sent records over syslog; the agent ships $shipped and live.log; waiting until they are searchable"
count() { "$BIN/gac" search "$1" --limit 0 2>/dev/null | tail -1 | awk '{print $4}' || true; }
ok=0
for _ in $(seq 300); do
  n=$(count 'NOT event.kind:alert AND NOT input.name:agent')
  a=$(count "input.name:agent AND NOT log.source:\"$LIVE_LOG\"")
  if [ "${n:-0}" -ge "$sent" ] && [ "${a:-0}" -ge "$shipped" ]; then ok=1; break; fi
  sleep 0.2
done
[ $ok = 1 ] || echo "!! not all searchable after 60 s (syslog ${n:-0}/$sent, agent ${a:-0}/$shipped); see $DATA/server.log, $DATA/agent.log"

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
echo; echo "== the agent, and the file it tails while the demo appends to it"
run agents
run search "log.source:\"$LIVE_LOG\"" --limit 3
echo
if [ $KEEP = 1 ]; then
  echo "gac-server (pid $SERVER) and gac-agent (pid $AGENT) are still running. Try:"
  echo "  export GAC_SERVER=$GAC_SERVER GAC_TOKEN=$GAC_TOKEN"
  echo "  $BIN/gac search 'Invalid user' --limit 20"
  echo "Stop them with: kill $AGENT $SERVER"
else
  echo "Done. Run 'scripts/demo.sh --keep' to explore afterwards; data is in $DATA."
fi
