#!/usr/bin/env bash
# Runs gac-parse fuzz targets one after another, each from a fresh copy of its seeds.
#   ./run.sh [SECONDS] [TARGET...]     default: 60 s each, every target
# Stable toolchain: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its nightly-only flags; no
# sanitizer (the crates forbid unsafe code; debug assertions and overflow checks are on).
# Logs go to logs/<target>.log; a crash leaves its input in artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
export RUSTC_BOOTSTRAP=1
mkdir -p logs
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    if [ "$t" = evtx ]; then
        cp ../tests/data/windows/*.evtx "corpus/$t/"
        max_len=70000
    else
        cp seeds/"$t"/* "corpus/$t/"
        max_len=4096
    fi
    echo "== $t: ${secs}s"
    cargo fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$secs" \
        -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"logs/$t.log" 2>&1 && rc=0 || rc=$?
    grep -E '^stat::number_of_executed_units|^Done|SUMMARY|panicked' "logs/$t.log" || true
    echo "   exit $rc"
done
