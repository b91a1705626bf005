//! Linux audit: each input line read as an `auditd` record and as audit-over-syslog, and
//! the events of both fed in order to an `AuditJoiner` (small, so eviction runs too),
//! then flushed by age and at the end.
#![no_main]

use gac_parse::formats::auditd::AuditJoiner;
use gac_parse_fuzz::{AUDITD_BODIES, AUDITD_RECORDS, bodies, consume, received, records};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut joiner = AuditJoiner::new(3);
    for line in data.split(|&b| b == b'\n') {
        let mut events = records(line, AUDITD_RECORDS);
        events.extend(bodies(line, AUDITD_BODIES));
        for event in events {
            std::hint::black_box(joiner.oldest_pending().is_some());
            consume(&joiner.push(event));
        }
    }
    consume(&joiner.flush_older_than(received()));
    consume(&joiner.flush_all());
    assert!(joiner.is_empty());
});
