//! The syslog header stage alone: `gac_parse::parse_syslog` on any bytes.
#![no_main]

use gac_parse_fuzz::{consume, policy, received};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (event, _) = gac_parse::parse_syslog(data, received(), &policy());
    consume(&[event]);
});
