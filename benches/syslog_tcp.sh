#!/usr/bin/env bash
# Syslog over TCP, receipt to searchable: gac-server against rsyslog on this machine.
#
# For each server, RUNS times: start it fresh on loopback, send EVENTS records from
# `loadgen` (CONNECTIONS connections, as fast as the server takes them), and time from
# the first byte sent until
#   - gac-server: `gac search --limit 0` counts all EVENTS (written to the WAL, fsynced,
#     parsed, indexed, committed, readers reloaded);
#   - rsyslog:    its output file holds EVENTS lines (the time of the last growth of the
#     file, confirmed by `wc -l` once it stops growing).
# Also reported: gac-server's intake rate (first byte to `wal.appended` = EVENTS), peak
# RSS (VmHWM), CPU seconds used by the server and by the whole machine during the run
# (others compiling show there), and gac-server's CPU time per thread.
# Results go to stdout and $WORK/results.md; see BENCHMARKS.md for the method.
#
# Usage: bash benches/syslog_tcp.sh
# Settings (environment): EVENTS (2000000), CONNECTIONS (4), RUNS (2),
#   GAC_PORT (15514), GAC_API (127.0.0.1:17710), RSYSLOG_PORT (15515),
#   WORK (target/bench-syslog-tcp), PERF=1 adds one extra gac-server run under
#   `perf record` (not counted) and writes its report to $WORK/perf-gac.txt,
#   NICE (0): nice value for the servers, loadgen and pollers (e.g. -15 on a busy
#   machine, see BENCHMARKS.md),
#   QUIET_WAIT_SECS (300): before each run, wait this long at most for the machine to
#   be idle (under 10% CPU busy over 3 s).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-2000000}
CONNECTIONS=${CONNECTIONS:-4}
RUNS=${RUNS:-2}
GAC_PORT=${GAC_PORT:-15514}
GAC_API=${GAC_API:-127.0.0.1:17710}
RSYSLOG_PORT=${RSYSLOG_PORT:-15515}
WORK=${WORK:-$PWD/target/bench-syslog-tcp}
PERF=${PERF:-0}
# Scheduling priority of the servers, loadgen and the pollers (nice value; below 0
# needs root). On a machine others are compiling on, -15 stands in for an idle one.
NICE=${NICE:-0}
# Before each run, wait up to this long for the machine to be idle (others compiling).
QUIET_WAIT_SECS=${QUIET_WAIT_SECS:-300}
# Give up on a run after this many seconds without reaching EVENTS.
TIMEOUT_SECS=${TIMEOUT_SECS:-600}
BIN=$PWD/target/release
RUN=(nice -n "$NICE")
# With autogroup scheduling (Linux's default for desktops and this VM) a nice value only
# orders processes within their session; the session's own weight is set here, and put
# back on exit. This touches only this script's session.
if [ "$NICE" != 0 ] && [ -w "/proc/$$/autogroup" ]; then
  echo "$NICE" >"/proc/$$/autogroup"
  trap 'echo 0 >"/proc/$$/autogroup"' EXIT
fi
CLK_TCK=$(getconf CLK_TCK)

now_ns() { date +%s%N; }
log() { echo "== $*" >&2; }

# --- setup ---------------------------------------------------------------------------
if ! command -v rsyslogd >/dev/null && [ ! -x /usr/sbin/rsyslogd ]; then
  log "installing rsyslog (Debian package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsyslog >/dev/null
fi
RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
log "building release binaries"
cargo build --release -q -p gac-server -p gac-console -p gac-benches
mkdir -p "$WORK"
RESULTS=$WORK/results.md
: >"$RESULTS"

# The commit measured, and whether the server's sources differ from it.
commit() {
  if git rev-parse --git-dir >/dev/null 2>&1; then
    echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- server crates || echo ' with uncommitted changes to server/ or crates/')"
  else
    echo "unknown (not a git checkout)"
  fi
}

# --- the machine ----------------------------------------------------------------------
machine() {
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- cores: $(nproc); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "- memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "- kernel: $(uname -r); OS: $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "- disk of $WORK: $(df -h --output=source,fstype "$WORK" | tail -1 | tr -s ' ')"
  echo "- rsyslog: $("$RSYSLOGD" -v | head -1)"
  echo "- rustc: $(rustc --version)"
  echo "- gac commit: $(commit)"
  echo "- load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
}
{ echo "## Machine"; machine; echo; } | tee -a "$RESULTS"
echo "busiest processes before the runs:" | tee -a "$RESULTS"
ps -eo pcpu,etime,comm --sort=-pcpu | head -6 | sed 's/^/    /' | tee -a "$RESULTS"
echo | tee -a "$RESULTS"

# --- helpers --------------------------------------------------------------------------
# CPU seconds (user+system) a process has used so far.
cpu_secs() { awk -v t="$CLK_TCK" '{printf "%.1f", ($14 + $15) / t}' "/proc/$1/stat"; }
# CPU seconds all processes have used so far (user, nice, system, irq, softirq).
machine_cpu_secs() { awk -v t="$CLK_TCK" '/^cpu / {printf "%.1f", ($2 + $3 + $4 + $7 + $8) / t}' /proc/stat; }
# Peak resident memory in MiB.
peak_rss() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
# Appends "tid comm cpu-ticks" for each live thread of a process. tantivy starts new
# indexing threads after each commit, so the threads are sampled while the run goes
# on, not only at its end.
sample_threads() { awk '{print $1, $2, $14 + $15}' /proc/"$1"/task/*/stat >>"$2" 2>/dev/null || true; }
# CPU seconds per thread name from those samples (tokio workers share one name).
thread_cpu() {
  awk -v t="$CLK_TCK" '{name[$1] = $2; ticks[$1] = $3}
    END {for (id in ticks) s[name[id]] += ticks[id]; for (n in s) if (s[n] > 0) printf "%s=%.1fs ", n, s[n] / t}' "$1"
  echo
}
# A counter from `gac stats --json` (0 when absent or the server is not answering).
counter() { grep -o "\"$1\":[0-9]*" <<<"$2" | cut -d: -f2 || echo 0; }
# A key from loadgen's last output line.
field() { grep -o "$1=[0-9.]*" <<<"$2" | cut -d= -f2; }
secs_between() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b - a) / 1e9}'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", n / s}'; }

# Waits until the machine is under 10% busy over 3 s, or QUIET_WAIT_SECS have passed.
wait_quiet() {
  local deadline=$((SECONDS + QUIET_WAIT_SECS)) a b busy
  while :; do
    a=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat)
    sleep 3
    b=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat)
    busy=$(awk -v a="$a" -v b="$b" 'BEGIN {split(a, x); split(b, y); printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2] + 1e-9)}')
    if [ "$busy" -lt 10 ]; then return; fi
    if [ "$SECONDS" -ge "$deadline" ]; then log "machine still ${busy}% busy; running anyway"; return; fi
    log "machine ${busy}% busy; waiting for it to be idle"
  done
}

run_loadgen() {
  "${RUN[@]}" "$BIN/loadgen" --target "$1" --events "$EVENTS" --connections "$CONNECTIONS" 2>/dev/null | tail -1
}

# --- gac-server -----------------------------------------------------------------------
gac_run() {
  local label=$1 dir=$WORK/gac
  rm -rf "$dir"
  wait_quiet
  "$BIN/gac-server" --config "$dir/gac-server.toml" init --data-dir "$dir/data" \
    --syslog-port "$GAC_PORT" --api-listen "$GAC_API" >/dev/null
  sed -i 's/0\.0\.0\.0:/127.0.0.1:/' "$dir/gac-server.toml"
  export GAC_SERVER="http://$GAC_API" GAC_TOKEN
  GAC_TOKEN=$(cat "$dir/data/admin.token")
  "${RUN[@]}" "$BIN/gac-server" --config "$dir/gac-server.toml" run 2>"$dir/server.log" &
  local pid=$! perf_pid=
  for _ in $(seq 100); do "$BIN/gac" stats >/dev/null 2>&1 && break; sleep 0.1; done
  if [ "$label" = perf ]; then
    perf record -F 999 -p "$pid" -o "$WORK/perf-gac.data" 2>/dev/null &
    perf_pid=$!
    sleep 0.5
  fi
  local load_before cpu_before all_before
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  cpu_before=$(cpu_secs "$pid"); all_before=$(machine_cpu_secs)
  run_loadgen "127.0.0.1:$GAC_PORT" >"$dir/loadgen.out" &
  local lg=$!
  # Poll every 0.1 s: counters always, the search count once everything is indexed.
  local t appended=0 added=0 total=0 t_intake= t_searchable= deadline
  deadline=$(( $(now_ns) + TIMEOUT_SECS * 1000000000 ))
  : >"$dir/threads.samples"
  while :; do
    t=$(now_ns)
    sample_threads "$pid" "$dir/threads.samples"
    stats=$("${RUN[@]}" "$BIN/gac" stats --json 2>/dev/null || true)
    appended=$(counter wal.appended "$stats"); added=$(counter index.added "$stats")
    if [ -z "$t_intake" ] && [ "${appended:-0}" -ge "$EVENTS" ]; then t_intake=$t; fi
    if [ "${added:-0}" -ge "$EVENTS" ]; then
      total=$("${RUN[@]}" "$BIN/gac" search --limit 0 2>/dev/null | tail -1 | awk '{print $4}')
      if [ "${total:-0}" -ge "$EVENTS" ]; then t_searchable=$(now_ns); break; fi
    fi
    if [ "$t" -gt "$deadline" ]; then log "gac-server: timed out at appended=$appended added=$added"; break; fi
    sleep 0.1
  done
  wait "$lg"
  local out rss cpu threads load_after all
  all=$(awk -v a="$(machine_cpu_secs)" -v b="$all_before" 'BEGIN {printf "%.1f", a - b}')
  out=$(cat "$dir/loadgen.out")
  rss=$(peak_rss "$pid"); cpu=$(awk -v a="$(cpu_secs "$pid")" -v b="$cpu_before" 'BEGIN {printf "%.1f", a - b}')
  sample_threads "$pid" "$dir/threads.samples"
  threads=$(thread_cpu "$dir/threads.samples"); load_after=$(cut -d' ' -f1 /proc/loadavg)
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid"; wait "$perf_pid" || true
    perf report -i "$WORK/perf-gac.data" --no-children --sort comm,dso,symbol --stdio 2>/dev/null \
      | head -150 >"$WORK/perf-gac.txt" || true
    perf report -i "$WORK/perf-gac.data" --no-children --sort comm --stdio 2>/dev/null \
      | grep -v '^#' | grep -v '^$' | head -20 >"$WORK/perf-gac-threads.txt" || true
  fi
  kill -TERM "$pid"; wait "$pid" || true
  [ -n "$t_searchable" ] || return 1
  local start sent_s searchable_s intake_s
  start=$(field start_unix_ns "$out")
  sent_s=$(field seconds "$out")
  searchable_s=$(secs_between "$start" "$t_searchable")
  intake_s=$(secs_between "$start" "${t_intake:-$t_searchable}")
  printf '| gac-server | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s -> %s |\n' \
    "$label" "$EVENTS" "$searchable_s" "$(rate "$EVENTS" "$searchable_s")" \
    "$(rate "$EVENTS" "$intake_s")" "$(rate "$EVENTS" "$sent_s")" "$rss" "$cpu" "$all" \
    "$load_before" "$load_after" | tee -a "$RESULTS"
  echo "gac-server $label threads (CPU s): $threads" >>"$WORK/threads.txt"
}

# --- rsyslog --------------------------------------------------------------------------
rsyslog_run() {
  local label=$1 dir=$WORK/rsyslog
  rm -rf "$dir"; mkdir -p "$dir/spool"
  wait_quiet
  local file=$dir/messages
  # Debian's defaults where they matter: the traditional file format, a plain omfile
  # action on the main queue (no asyncWriting, flush at the end of each batch, no
  # fsync). Only imtcp is loaded.
  cat >"$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir/spool")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="$RSYSLOG_PORT")
action(type="omfile" file="$file" template="RSYSLOG_TraditionalFileFormat")
EOF
  "${RUN[@]}" "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" 2>"$dir/rsyslogd.log" &
  local pid=$!
  # Wait for the port: connect and close without sending anything.
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$RSYSLOG_PORT") 2>/dev/null && break; sleep 0.1; done
  local load_before cpu_before all_before
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  cpu_before=$(cpu_secs "$pid"); all_before=$(machine_cpu_secs)
  run_loadgen "127.0.0.1:$RSYSLOG_PORT" >"$dir/loadgen.out" &
  local lg=$!
  # Poll the file size every 0.1 s; once loadgen is done and the file has not grown for
  # a second, count its lines. The end time is when it last grew.
  local t size last_size=-1 t_grew= lines=0 deadline
  deadline=$(( $(now_ns) + TIMEOUT_SECS * 1000000000 ))
  while :; do
    t=$(now_ns)
    size=$(stat -c %s "$file" 2>/dev/null || echo 0)
    if [ "$size" != "$last_size" ]; then last_size=$size; t_grew=$t; fi
    if ! kill -0 "$lg" 2>/dev/null && [ $((t - t_grew)) -gt 1000000000 ]; then
      lines=$(wc -l <"$file" 2>/dev/null || echo 0)
      [ "$lines" -ge "$EVENTS" ] && break
    fi
    if [ "$t" -gt "$deadline" ]; then log "rsyslog: timed out at $lines lines"; t_grew=; break; fi
    sleep 0.1
  done
  wait "$lg"
  local out rss cpu load_after all
  all=$(awk -v a="$(machine_cpu_secs)" -v b="$all_before" 'BEGIN {printf "%.1f", a - b}')
  out=$(cat "$dir/loadgen.out")
  rss=$(peak_rss "$pid"); cpu=$(awk -v a="$(cpu_secs "$pid")" -v b="$cpu_before" 'BEGIN {printf "%.1f", a - b}')
  load_after=$(cut -d' ' -f1 /proc/loadavg)
  kill -TERM "$pid"; wait "$pid" || true
  [ -n "$t_grew" ] || return 1
  local start sent_s written_s
  start=$(field start_unix_ns "$out")
  sent_s=$(field seconds "$out")
  written_s=$(secs_between "$start" "$t_grew")
  printf '| rsyslog | %s | %s | %s | %s | - | %s | %s | %s | %s | %s -> %s |\n' \
    "$label" "$EVENTS" "$written_s" "$(rate "$EVENTS" "$written_s")" \
    "$(rate "$EVENTS" "$sent_s")" "$rss" "$cpu" "$all" "$load_before" "$load_after" | tee -a "$RESULTS"
  rm -f "$file"
}

# --- the loadgen alone ----------------------------------------------------------------
sink_run() {
  "$BIN/sink" --listen "127.0.0.1:$RSYSLOG_PORT" --connections "$CONNECTIONS" >"$WORK/sink.out" 2>/dev/null &
  local pid=$!
  # The sink counts every connection, so no probe: give it time to bind.
  sleep 1
  "$BIN/loadgen" --target "127.0.0.1:$RSYSLOG_PORT" --events "$EVENTS" \
    --connections "$CONNECTIONS" 2>/dev/null | head -1
  wait "$pid"
  cat "$WORK/sink.out"
}

: >"$WORK/threads.txt"
{
  echo "## Runs ($EVENTS events, $CONNECTIONS connections, nice $NICE)"
  echo
  echo "| server | run | events | seconds to searchable / written | events/s end to end | intake events/s (WAL) | loadgen send events/s | peak RSS MiB | server CPU s | machine CPU s | load 1 min before -> after |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
} | tee -a "$RESULTS"
for i in $(seq "$RUNS"); do
  log "gac-server run $i"
  gac_run "$i" || log "gac-server run $i failed"
  log "rsyslog run $i"
  rsyslog_run "$i" || log "rsyslog run $i failed"
done
echo | tee -a "$RESULTS"
if [ "$PERF" = 1 ]; then
  log "gac-server under perf (not counted)"
  gac_run perf || log "the perf run failed"
  echo "perf report: $WORK/perf-gac.txt, per thread: $WORK/perf-gac-threads.txt" | tee -a "$RESULTS"
fi
{ echo "gac-server CPU time per thread:"; sed 's/^/    /' "$WORK/threads.txt"; echo; } | tee -a "$RESULTS"
log "loadgen into a sink that only counts lines"
{ echo "loadgen alone:"; sink_run | sed 's/^/    /'; } | tee -a "$RESULTS"
echo "- load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS"
log "results in $RESULTS"
