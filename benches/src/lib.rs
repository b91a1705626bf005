//! Gác benchmarks: see `benches/` targets and BENCHMARKS.md.
