//! Web server logs: every web record format (nginx/apache access and error, nginx JSON
//! access) on the whole input, and the nginx/apache syslog bodies.
#![no_main]

use gac_parse_fuzz::{WEB_BODIES, WEB_RECORDS, bodies, consume, records};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    consume(&records(data, WEB_RECORDS));
    consume(&bodies(data, WEB_BODIES));
});
