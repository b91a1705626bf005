#!/usr/bin/env bash
# A log file to indexed on the server: gac-agent against rsyslog (imfile + omfwd) on this
# machine, in the same run. See BENCHMARKS.md "Agent: file to index" for the method.
#
# 1. Throughput, RUNS times. `logfile` writes MIB MiB of real syslog, auth and access
#    lines with fresh times (once, reused by every run). Then, each on its own:
#    - gac-agent -> gac-server: a fresh server (agent endpoint with mutual TLS) and a
#      freshly enrolled agent following the file from the beginning. Timed from the
#      agent's start until (a) its checkpoint says every line is acknowledged (the server
#      answers a batch after its WAL fsync), and (b) `gac search` counts every line.
#      CPU time of the agent and the server from /proc/PID/stat.
#    - gac-agent -> null sink: the same agent against a TLS endpoint that answers 200 to
#      every batch and does nothing else (python3, the server's own certificate), to see
#      the agent without the server competing for the cores.
#    - rsyslog -> rsyslog: rsyslogd with imfile reading the file and omfwd (TCP) to a
#      second rsyslogd (imtcp, omfile), rsyslog's default forwarding format (a syslog
#      header around each line). Timed until the receiver's file holds every line.
#    - rsyslog -> gac-server: the same sender into gac-server's syslog TCP input, timed
#      until `gac search` counts every line.
# 2. Steady state: a writer appends RATE lines/s for STEADY_SECS to an empty file the
#    agent (default config) follows; the agent's VmRSS (sampled every second), VmHWM and
#    CPU over that window. The same for the rsyslog imfile sender.
#
# Usage: bash benches/agent_file.sh
# Settings (environment): MIB (500), RUNS (2), RATE (1000), STEADY_SECS (60),
#   SKIP_THROUGHPUT=1 / SKIP_STEADY=1, WORK (target/bench-agent-file),
#   ports GAC_SYSLOG_PORT (16514), GAC_API (127.0.0.1:17720), GAC_AGENT_PORT (17721),
#   RSYSLOG_PORT (16515), NICE (0, as in syslog_tcp.sh), QUIET_WAIT_SECS (120),
#   TIMEOUT_SECS (900).
# Results go to stdout and $WORK/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${MIB:-500}
RUNS=${RUNS:-2}
RATE=${RATE:-1000}
STEADY_SECS=${STEADY_SECS:-60}
SKIP_THROUGHPUT=${SKIP_THROUGHPUT:-0}
SKIP_STEADY=${SKIP_STEADY:-0}
WORK=${WORK:-$PWD/target/bench-agent-file}
GAC_SYSLOG_PORT=${GAC_SYSLOG_PORT:-16514}
GAC_API=${GAC_API:-127.0.0.1:17720}
GAC_AGENT_PORT=${GAC_AGENT_PORT:-17721}
RSYSLOG_PORT=${RSYSLOG_PORT:-16515}
NICE=${NICE:-0}
QUIET_WAIT_SECS=${QUIET_WAIT_SECS:-120}
TIMEOUT_SECS=${TIMEOUT_SECS:-900}
BIN=$PWD/target/release
RUN=(nice -n "$NICE")
AUTOGROUP=0
if [ "$NICE" != 0 ] && [ -w "/proc/$$/autogroup" ]; then
  echo "$NICE" >"/proc/$$/autogroup"
  AUTOGROUP=1
fi
CLK_TCK=$(getconf CLK_TCK)
log() { echo "== $*" >&2; }

# --- setup ---------------------------------------------------------------------------
if ! command -v rsyslogd >/dev/null && [ ! -x /usr/sbin/rsyslogd ]; then
  log "installing rsyslog (Debian package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsyslog >/dev/null
fi
RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
command -v python3 >/dev/null || { log "python3 is needed for the null sink"; exit 1; }
log "building release binaries"
cargo build --release -q -p gac-server -p gac-console -p gac-agent -p gac-benches \
  --bin gac-server --bin gac --bin gac-agent --bin logfile
mkdir -p "$WORK"
RESULTS=$WORK/results.md
: >"$RESULTS"
NOTES=$WORK/notes.txt
: >"$NOTES"
out() { tee -a "$RESULTS"; }

commit() {
  if git rev-parse --git-dir >/dev/null 2>&1; then
    echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- agent server crates || echo ' with uncommitted changes to agent/, server/ or crates/')"
  else
    echo "unknown (not a git checkout)"
  fi
}
{
  echo "## Machine"
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- cores: $(nproc); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "- memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "- kernel: $(uname -r); OS: $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "- disk of $WORK: $(df -h --output=source,fstype "$WORK" | tail -1 | tr -s ' ')"
  echo "- rsyslog: $("$RSYSLOGD" -v | head -1)"
  echo "- gac commit: $(commit)"
  echo "- uptime: $(uptime)"
  echo "- busiest processes:"
  ps -eo pcpu,etime,comm --sort=-pcpu | head -6 | sed 's/^/    /'
  echo
} | out

# --- helpers --------------------------------------------------------------------------
now_ns() { date +%s%N; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b - a) / 1e9}'; }
cpu_s() { awk -v d="$1" -v t="$CLK_TCK" 'BEGIN {printf "%.2f", d / t}'; }
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.1f}" 'BEGIN {if (b > 0) printf f, a / b; else printf "-"}'; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
load1() { cut -d' ' -f1 /proc/loadavg; }
# Stops a process this script started and waits for it.
stop_pid() {
  if [ -n "${1:-}" ]; then kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi
}
# Everything started here, stopped on exit (by pid).
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  if [ "$AUTOGROUP" = 1 ]; then echo 0 >"/proc/$$/autogroup"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

wait_quiet() {
  local deadline=$((SECONDS + QUIET_WAIT_SECS)) a b busy
  while :; do
    a=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat)
    sleep 3
    b=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat)
    busy=$(awk -v a="$a" -v b="$b" 'BEGIN {split(a, x); split(b, y); printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2] + 1e-9)}')
    [ "$busy" -lt 10 ] && return
    if [ "$SECONDS" -ge "$deadline" ]; then log "machine still ${busy}% busy; running anyway"; return; fi
    log "machine ${busy}% busy; waiting for it to be idle"
  done
}

# gac-server in $1 (fresh); sets SERVER_PID, GAC_SERVER, GAC_TOKEN, SERVER_CONFIG.
server_start() {
  local dir=$1
  rm -rf "$dir"
  "$BIN/gac-server" --config "$dir/gac-server.toml" init --data-dir "$dir/data" \
    --syslog-port "$GAC_SYSLOG_PORT" --api-listen "$GAC_API" \
    --agent-listen "127.0.0.1:$GAC_AGENT_PORT" >/dev/null
  sed -i 's/0\.0\.0\.0:/127.0.0.1:/' "$dir/gac-server.toml"
  SERVER_CONFIG=$dir/gac-server.toml
  export GAC_SERVER="http://$GAC_API" GAC_TOKEN
  GAC_TOKEN=$(cat "$dir/data/admin.token")
  "${RUN[@]}" "$BIN/gac-server" --config "$SERVER_CONFIG" run 2>"$dir/server.log" &
  SERVER_PID=$!; PIDS+=("$SERVER_PID")
  for _ in $(seq 100); do "$BIN/gac" stats >/dev/null 2>&1 && return; sleep 0.1; done
  log "gac-server did not come up: $(tail -5 "$dir/server.log")"; return 1
}
search_total() { "$BIN/gac" search --limit 0 2>/dev/null | tail -1 | awk '{print $4}'; }

# A fresh agent in $1 following file $2, enrolled with the running server. $3: extra
# [ship] settings.
agent_setup() {
  local dir=$1 file=$2 ship=${3:-}
  rm -rf "$dir"; mkdir -p "$dir"
  printf '%032x\n' "$(( $(now_ns) ^ $$ ))" >"$dir/machine-id"
  cat >"$dir/gac-agent.toml" <<EOF
state_dir = "$dir/state"
machine_id_path = "$dir/machine-id"
hostname = "bench-agent"

[ship]
$ship

[[files.input]]
paths = ["$file"]
read_from = "beginning"
EOF
  local token
  token=$("$BIN/gac-server" --config "$SERVER_CONFIG" token create --enroll)
  "$BIN/gac-agent" --config "$dir/gac-agent.toml" enroll \
    --server "https://127.0.0.1:$GAC_AGENT_PORT" --token "$token" >/dev/null
}
agent_start() {
  "${RUN[@]}" "$BIN/gac-agent" --config "$1/gac-agent.toml" run 2>"$1/agent.log" &
  AGENT_PID=$!; PIDS+=("$AGENT_PID")
}
# Lines of $2 the agent in $1 has had acknowledged (its checkpoint).
acked() { grep -o "\"$2\":[0-9]*" "$1/state/checkpoint.json" 2>/dev/null | head -1 | cut -d: -f2 || true; }

# The agent's counters that say whether it waited (from its "agent stopped" log line).
agent_notes() {
  local c
  c=$(grep 'agent stopped' "$3" | tail -1 | grep -oE '"(file.lines|file.lines_cut|spool.full_pauses|ship.batches_acked|ship.retry_later|ship.network_errors)": [0-9]+' | tr -d '"' | tr '\n' ' ' || true)
  echo "- run $1, $2: agent counters: ${c:-none logged}" >>"$NOTES"
}

# A TLS endpoint that answers 200 to every request, with the server's certificate.
null_sink_start() {
  local pki=$1/data/pki
  cat >"$WORK/nullsink.py" <<'EOF'
import http.server, ssl, sys
port, cert, key, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        while n > 0:
            chunk = self.rfile.read(min(n, 1 << 20))
            if not chunk:
                break
            n -= len(chunk)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *args):
        pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
ctx.verify_mode = ssl.CERT_REQUIRED
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
EOF
  "${RUN[@]}" python3 "$WORK/nullsink.py" "$GAC_AGENT_PORT" "$pki/server.pem" "$pki/server.key" \
    "$pki/ca.pem" 2>"$WORK/nullsink.log" &
  NULL_PID=$!; PIDS+=("$NULL_PID")
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$GAC_AGENT_PORT") 2>/dev/null && return; sleep 0.1; done
  log "null sink did not come up: $(cat "$WORK/nullsink.log")"; return 1
}

# rsyslogd receiving TCP on RSYSLOG_PORT into $1/received.log; sets RECV_PID.
rsyslog_receiver_start() {
  local dir=$1
  mkdir -p "$dir/recv-spool"
  cat >"$dir/receiver.conf" <<EOF
global(workDirectory="$dir/recv-spool" maxMessageSize="64k")
module(load="imtcp")
ruleset(name="store") { action(type="omfile" file="$dir/received.log") }
input(type="imtcp" address="127.0.0.1" port="$RSYSLOG_PORT" ruleset="store")
EOF
  "${RUN[@]}" "$RSYSLOGD" -n -f "$dir/receiver.conf" -i "$dir/receiver.pid" 2>"$dir/receiver.log" &
  RECV_PID=$!; PIDS+=("$RECV_PID")
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$RSYSLOG_PORT") 2>/dev/null && return; sleep 0.1; done
  log "rsyslog receiver did not come up"; return 1
}
# rsyslogd following file $2 with imfile and forwarding over TCP to port $3; config and
# state in $1; sets SEND_PID (not started until rsyslog_sender_start).
rsyslog_sender_conf() {
  local dir=$1 file=$2 port=$3
  mkdir -p "$dir/send-spool"
  cat >"$dir/sender.conf" <<EOF
global(workDirectory="$dir/send-spool" maxMessageSize="64k")
module(load="imfile")
ruleset(name="ship") { action(type="omfwd" target="127.0.0.1" port="$port" protocol="tcp") }
input(type="imfile" file="$file" tag="bench:" ruleset="ship")
EOF
}
rsyslog_sender_start() {
  "${RUN[@]}" "$RSYSLOGD" -n -f "$1/sender.conf" -i "$1/sender.pid" 2>"$1/sender.log" &
  SEND_PID=$!; PIDS+=("$SEND_PID")
}

# Waits until `gac search` counts $1 events; prints the time (ns) it did, or nothing.
wait_searchable() {
  local want=$1 deadline=$(( $(now_ns) + TIMEOUT_SECS * 1000000000 )) added total
  while [ "$(now_ns)" -lt "$deadline" ]; do
    added=$("$BIN/gac" stats --json 2>/dev/null | grep -o '"index.added":[0-9]*' | cut -d: -f2 || true)
    if [ "${added:-0}" -ge "$want" ]; then
      total=$(search_total)
      if [ "${total:-0}" -ge "$want" ]; then now_ns; return; fi
    fi
    sleep 0.2
  done
  log "timed out waiting for $want searchable events (index.added=${added:-0})"
}

# --- 1. throughput --------------------------------------------------------------------
FILE=$WORK/input/bench.log
if [ "$SKIP_THROUGHPUT" != 1 ]; then
  want_bytes=$((MIB * 1048576))
  if [ ! -f "$FILE" ] || [ "$(stat -c %s "$FILE")" -lt "$want_bytes" ] \
    || [ "$(stat -c %s "$FILE")" -gt $((want_bytes + 1048576)) ]; then
    log "writing $MIB MiB of log lines to $FILE"
    rm -rf "$WORK/input"; mkdir -p "$WORK/input"
    "$BIN/logfile" --out "$FILE" --bytes "$want_bytes" | tail -1 >"$WORK/input/summary"
  fi
  BYTES=$(stat -c %s "$FILE")
  LINES=$(wc -l <"$FILE")
  FMIB=$(mib "$BYTES")
  {
    echo "## Throughput: $FILE, $FMIB MiB, $LINES lines (nice $NICE)"
    echo
    echo "| run | path | seconds | MiB/s | lines/s | shipper CPU s | MiB per shipper CPU s | shipper peak RSS MiB | receiver CPU s | machine CPU s | load 1 min before -> after |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
  } | out
  row() { # run path seconds shipper_ticks shipper_hwm_kib receiver_ticks machine_ticks load_before
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s -> %s |\n' "$1" "$2" "$3" \
      "$(div "$FMIB" "$3")" "$(div "$LINES" "$3" %.0f)" "$(cpu_s "$4")" \
      "$(div "$FMIB" "$(cpu_s "$4")")" "$(div "$5" 1024 %.0f)" "$(cpu_s "$6")" \
      "$(cpu_s "$7")" "$8" "$(load1)" | out
  }

  for i in $(seq "$RUNS"); do
    # gac-agent -> gac-server.
    log "run $i: gac-agent -> gac-server"
    d=$WORK/gac; wait_quiet
    server_start "$d/server"
    agent_setup "$d/agent" "$FILE" "checkpoint_interval_ms = 100"
    lb=$(load1); m0=$(machine_ticks); s0=$(ticks "$SERVER_PID"); t0=$(now_ns)
    agent_start "$d/agent"
    deadline=$(( t0 + TIMEOUT_SECS * 1000000000 )); t_acked=
    while [ "$(now_ns)" -lt "$deadline" ]; do
      n=$(acked "$d/agent" "$FILE")
      if [ "${n:-0}" -ge "$LINES" ]; then
        t_acked=$(now_ns); a_ticks=$(ticks "$AGENT_PID"); s_acked=$(ticks "$SERVER_PID")
        m_acked=$(machine_ticks); hwm=$(status_kib "$AGENT_PID" VmHWM)
        break
      fi
      sleep 0.1
    done
    if [ -z "$t_acked" ]; then
      log "run $i: the agent did not finish: $(tail -3 "$d/agent/agent.log")"
    else
      row "$i" "gac-agent -> gac-server: acknowledged (WAL fsync)" "$(secs "$t0" "$t_acked")" \
        "$a_ticks" "$hwm" "$((s_acked - s0))" "$((m_acked - m0))" "$lb"
      t_search=$(wait_searchable "$LINES")
      if [ -n "$t_search" ]; then
        row "$i" "gac-agent -> gac-server: searchable" "$(secs "$t0" "$t_search")" \
          "$(ticks "$AGENT_PID")" "$(status_kib "$AGENT_PID" VmHWM)" \
          "$(( $(ticks "$SERVER_PID") - s0 ))" "$(( $(machine_ticks) - m0 ))" "$lb"
        echo "- run $i, gac-agent -> gac-server: server peak RSS $(div "$(status_kib "$SERVER_PID" VmHWM)" 1024 %.0f) MiB" >>"$NOTES"
      fi
    fi
    stop_pid "$AGENT_PID"
    agent_notes "$i" "gac-agent -> gac-server" "$d/agent/agent.log"

    # gac-agent -> null sink (enrolled with the real server, which then stops).
    log "run $i: gac-agent -> null sink"
    agent_setup "$d/agent" "$FILE" "checkpoint_interval_ms = 100"
    stop_pid "$SERVER_PID"
    null_sink_start "$d/server"
    wait_quiet
    lb=$(load1); m0=$(machine_ticks); n0=$(ticks "$NULL_PID"); t0=$(now_ns)
    agent_start "$d/agent"
    deadline=$(( t0 + TIMEOUT_SECS * 1000000000 )); t_acked=
    while [ "$(now_ns)" -lt "$deadline" ]; do
      n=$(acked "$d/agent" "$FILE")
      if [ "${n:-0}" -ge "$LINES" ]; then
        t_acked=$(now_ns)
        row "$i" "gac-agent -> null sink: acknowledged" "$(secs "$t0" "$t_acked")" \
          "$(ticks "$AGENT_PID")" "$(status_kib "$AGENT_PID" VmHWM)" \
          "$(( $(ticks "$NULL_PID") - n0 ))" "$(( $(machine_ticks) - m0 ))" "$lb"
        break
      fi
      sleep 0.1
    done
    [ -n "$t_acked" ] || log "run $i: the agent did not finish against the null sink"
    stop_pid "$AGENT_PID"; stop_pid "$NULL_PID"
    agent_notes "$i" "gac-agent -> null sink" "$d/agent/agent.log"

    # rsyslog imfile -> omfwd -> rsyslog imtcp -> omfile.
    log "run $i: rsyslog -> rsyslog"
    d=$WORK/rsyslog; rm -rf "$d"; mkdir -p "$d"; wait_quiet
    rsyslog_receiver_start "$d"
    rsyslog_sender_conf "$d" "$FILE" "$RSYSLOG_PORT"
    lb=$(load1); m0=$(machine_ticks); r0=$(ticks "$RECV_PID"); t0=$(now_ns)
    rsyslog_sender_start "$d"
    deadline=$(( t0 + TIMEOUT_SECS * 1000000000 )); last=-1; t_grew=$t0; done_ok=
    while [ "$(now_ns)" -lt "$deadline" ]; do
      t=$(now_ns); size=$(stat -c %s "$d/received.log" 2>/dev/null || echo 0)
      if [ "$size" != "$last" ]; then
        last=$size; t_grew=$t
        snd=$(ticks "$SEND_PID"); rcv=$(ticks "$RECV_PID"); mt=$(machine_ticks)
        hwm=$(status_kib "$SEND_PID" VmHWM)
      elif [ $((t - t_grew)) -gt 1000000000 ]; then
        # Stopped growing: done if every line is there.
        [ "$(wc -l <"$d/received.log" 2>/dev/null || echo 0)" -ge "$LINES" ] && { done_ok=1; break; }
      fi
      sleep 0.1
    done
    if [ -n "$done_ok" ]; then
      row "$i" "rsyslog -> rsyslog: written by the receiver" "$(secs "$t0" "$t_grew")" \
        "$snd" "$hwm" "$((rcv - r0))" "$((mt - m0))" "$lb"
    else
      log "run $i: rsyslog -> rsyslog did not finish ($(wc -l <"$d/received.log" 2>/dev/null || echo 0) lines)"
    fi
    stop_pid "$SEND_PID"; stop_pid "$RECV_PID"; rm -f "$d/received.log"

    # rsyslog imfile -> omfwd -> gac-server syslog TCP.
    log "run $i: rsyslog -> gac-server"
    rm -rf "$d"; mkdir -p "$d"; wait_quiet
    server_start "$d/server"
    rsyslog_sender_conf "$d" "$FILE" "$GAC_SYSLOG_PORT"
    lb=$(load1); m0=$(machine_ticks); s0=$(ticks "$SERVER_PID"); t0=$(now_ns)
    rsyslog_sender_start "$d"
    t_search=$(wait_searchable "$LINES")
    if [ -n "$t_search" ]; then
      row "$i" "rsyslog -> gac-server: searchable" "$(secs "$t0" "$t_search")" \
        "$(ticks "$SEND_PID")" "$(status_kib "$SEND_PID" VmHWM)" \
        "$(( $(ticks "$SERVER_PID") - s0 ))" "$(( $(machine_ticks) - m0 ))" "$lb"
      echo "- run $i, rsyslog -> gac-server: server peak RSS $(div "$(status_kib "$SERVER_PID" VmHWM)" 1024 %.0f) MiB" >>"$NOTES"
    fi
    stop_pid "$SEND_PID"; stop_pid "$SERVER_PID"
  done
  echo | out
  { cat "$NOTES"; echo; } | out
fi

# --- 2. steady state ------------------------------------------------------------------
# Samples process $1 every second for STEADY_SECS while `logfile` appends to $2; prints
# "cpu_percent rss_max_mib rss_mean_mib hwm_mib lines".
steady_window() {
  local pid=$1 file=$2 c0 c1 t0 t1 samples=() w
  "$BIN/logfile" --out "$file" --rate "$RATE" --secs "$STEADY_SECS" --seed 7 >"$file.writer" &
  w=$!; PIDS+=("$w")
  c0=$(ticks "$pid"); t0=$(now_ns)
  while kill -0 "$w" 2>/dev/null; do
    samples+=("$(status_kib "$pid" VmRSS)")
    sleep 1
  done
  wait "$w" || true
  c1=$(ticks "$pid"); t1=$(now_ns)
  local s
  s=$(printf '%s\n' "${samples[@]}" | awk '{s += $1; if ($1 > m) m = $1} END {printf "%.1f %.1f", m / 1024, s / NR / 1024}')
  echo "$(awk -v c=$((c1 - c0)) -v t="$CLK_TCK" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", 100 * c / t / ((b - a) / 1e9)}') $s $(div "$(status_kib "$pid" VmHWM)" 1024) $(wc -l <"$file")"
}

if [ "$SKIP_STEADY" != 1 ]; then
  {
    echo "## Steady state: $RATE lines/s appended for $STEADY_SECS s"
    echo
    echo "| shipper | CPU % of one core | VmRSS max MiB | VmRSS mean MiB | VmHWM MiB | lines written | lines delivered |"
    echo "|---|---|---|---|---|---|---|"
  } | out
  log "steady: gac-agent -> gac-server"
  d=$WORK/steady-gac; rm -rf "$d"; mkdir -p "$d/logs"; : >"$d/logs/live.log"
  server_start "$d/server"
  agent_setup "$d/agent" "$d/logs/live.log" ""
  agent_start "$d/agent"; sleep 5; wait_quiet
  read -r cpu rmax rmean hwm lines < <(steady_window "$AGENT_PID" "$d/logs/live.log")
  t=$(wait_searchable "$lines"); got=$(search_total)
  printf '| gac-agent (defaults) -> gac-server | %s | %s | %s | %s | %s | %s |\n' \
    "$cpu" "$rmax" "$rmean" "$hwm" "$lines" "${got:-0}" | out
  stop_pid "$AGENT_PID"; stop_pid "$SERVER_PID"

  log "steady: rsyslog imfile -> rsyslog"
  d=$WORK/steady-rsyslog; rm -rf "$d"; mkdir -p "$d/logs"; : >"$d/logs/live.log"
  rsyslog_receiver_start "$d"
  rsyslog_sender_conf "$d" "$d/logs/live.log" "$RSYSLOG_PORT"
  rsyslog_sender_start "$d"; sleep 5; wait_quiet
  read -r cpu rmax rmean hwm lines < <(steady_window "$SEND_PID" "$d/logs/live.log")
  sleep 3
  printf '| rsyslog imfile + omfwd -> rsyslog | %s | %s | %s | %s | %s | %s |\n' \
    "$cpu" "$rmax" "$rmean" "$hwm" "$lines" "$(wc -l <"$d/received.log" 2>/dev/null || echo 0)" | out
  stop_pid "$SEND_PID"; stop_pid "$RECV_PID"
  echo | out
fi
echo "- load after: $(cut -d' ' -f1-3 /proc/loadavg)" | out
log "results in $RESULTS"
