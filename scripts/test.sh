#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine with the Rust toolchain: installs what
# the tests need, builds the binaries the end-to-end tests run, then runs every test and
# the lint gates. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v logger >/dev/null || need_apt+=(bsdutils)   # util-linux logger: real syslog client
# A C compiler and make: bundled SQLite, zstd and jemalloc (gac-server's allocator) build C.
command -v cc >/dev/null || need_apt+=(gcc)
command -v make >/dev/null || need_apt+=(make)
command -v python3 >/dev/null || need_apt+=(python3)
python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi
# pySigma, the independent Sigma implementation crates/detect/tests/differential.rs compares
# gac-detect with.
PYSIGMA=(pysigma==2.0.1 pysigma-backend-sqlite==2.1.1)
if ! python3 -c 'import sigma.backends.sqlite' 2>/dev/null; then
  echo "== installing ${PYSIGMA[*]}"
  # Debian's own Python refuses user installs (PEP 668) unless told otherwise.
  python3 -m pip install --quiet "${PYSIGMA[@]}" 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages "${PYSIGMA[@]}"
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

echo "== format"
cargo fmt --all -- --check

echo "== build (the end-to-end tests run these binaries)"
cargo build --workspace --bins --locked

echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  # Doc tests first: nextest's summary is then the suite's closing line.
  cargo test --workspace --doc --locked
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

echo "== lints"
cargo clippy --workspace --all-targets --locked -- -D warnings
