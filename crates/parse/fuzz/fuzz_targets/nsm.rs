//! Network security monitors: Suricata EVE, Zeek JSON and TSV records, and EVE behind a
//! syslog header.
#![no_main]

use gac_parse_fuzz::{NSM_BODIES, NSM_RECORDS, bodies, consume, records};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    consume(&records(data, NSM_RECORDS));
    consume(&bodies(data, NSM_BODIES));
});
