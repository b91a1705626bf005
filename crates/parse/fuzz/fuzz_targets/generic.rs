//! Generic formats: CEF, LEEF, key=value and JSON records, and CEF/LEEF behind a syslog
//! header.
#![no_main]

use gac_parse_fuzz::{GENERIC_BODIES, GENERIC_RECORDS, bodies, consume, records};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    consume(&records(data, GENERIC_RECORDS));
    consume(&bodies(data, GENERIC_BODIES));
});
