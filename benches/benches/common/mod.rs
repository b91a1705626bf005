//! What the criterion benches in this folder share: the clock. By default criterion's
//! wall clock; with `GAC_BENCH_CLOCK=cpu`, the benchmark thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`), which leaves out the time the thread waited for a CPU,
//! so that figures taken on a busy machine (other builds, other benches) stay
//! comparable. Groups measured with the CPU clock are named `cpu/...`, so criterion keeps
//! their history apart.
//!
//! The benches allocate as `gac-server` does: through jemalloc, its global allocator
//! (ARCHITECTURE.md, "The server allocates with jemalloc"), so that a figure here is
//! what the server's parse and enrichment steps cost.

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{BenchmarkGroup, Criterion, Throughput};
use rustix::time::{ClockId, clock_gettime};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Whether this run measures CPU time (`GAC_BENCH_CLOCK=cpu`).
pub fn cpu_clock() -> bool {
    std::env::var("GAC_BENCH_CLOCK").is_ok_and(|v| v == "cpu")
}

/// A benchmark group, named for the clock in use.
pub fn group<'a, M: Measurement>(c: &'a mut Criterion<M>, name: &str) -> BenchmarkGroup<'a, M> {
    if cpu_clock() {
        c.benchmark_group(format!("cpu/{name}"))
    } else {
        c.benchmark_group(name)
    }
}

/// The calling thread's CPU time, as a criterion measurement.
#[derive(Debug)]
pub struct ThreadCpu;

fn thread_cpu_now() -> Duration {
    let t = clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

impl Measurement for ThreadCpu {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_now()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_now().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanoseconds
    }
}

/// Values in nanoseconds, shown as criterion shows wall time.
struct Nanoseconds;

impl ValueFormatter for Nanoseconds {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = match typical {
            t if t < 1e3 => (1.0, "ns"),
            t if t < 1e6 => (1e-3, "µs"),
            t if t < 1e9 => (1e-6, "ms"),
            _ => (1e-9, "s"),
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let (count, unit) = match *throughput {
            Throughput::Elements(n) | Throughput::ElementsAndBytes { elements: n, .. } => {
                (n as f64, "elem/s")
            }
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => (n as f64, "B/s"),
            Throughput::Bits(n) => (n as f64, "bit/s"),
        };
        // Per second, from nanoseconds per iteration.
        values.iter_mut().for_each(|v| *v = count * 1e9 / *v);
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

/// `main` for a bench file: runs the given functions (generic over the measurement)
/// with the clock `GAC_BENCH_CLOCK` asks for.
macro_rules! bench_main {
    ( $( $f:path ),+ $(,)? ) => {
        fn main() {
            if common::cpu_clock() {
                let mut c = criterion::Criterion::default()
                    .with_measurement(common::ThreadCpu)
                    .configure_from_args();
                $( $f(&mut c); )+
                c.final_summary();
            } else {
                let mut c = criterion::Criterion::default().configure_from_args();
                $( $f(&mut c); )+
                c.final_summary();
            }
        }
    };
}
pub(crate) use bench_main;
