//! `.evtx` file bytes through `gac_parse::formats::evtx::read_evtx`, every record read.
#![no_main]

use gac_parse_fuzz::{consume, received};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(events) = gac_parse::formats::evtx::read_evtx(data, received()) else {
        return;
    };
    for event in events.flatten() {
        consume(&[event]);
    }
});
