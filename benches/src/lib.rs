//! Gác benchmarks: the `loadgen` and `sink` binaries, the criterion benches in
//! `benches/`, and `syslog_tcp.sh`, which runs the whole-path comparison with rsyslog.
//! Results and method are in BENCHMARKS.md at the workspace root.

pub mod samples;
