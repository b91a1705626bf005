//! Windows event records as shippers send them: Winlogbeat, evtx-crate JSON and NXLog.
#![no_main]

use gac_parse_fuzz::{WINDOWS_RECORDS, consume, records};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    consume(&records(data, WINDOWS_RECORDS));
});
