//! Network devices: FortiGate records, and the Cisco ASA, pfSense filterlog, FortiGate
//! and iptables syslog bodies.
#![no_main]

use gac_parse_fuzz::{NETWORK_BODIES, NETWORK_RECORDS, bodies, consume, records};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    consume(&records(data, NETWORK_RECORDS));
    consume(&bodies(data, NETWORK_BODIES));
});
