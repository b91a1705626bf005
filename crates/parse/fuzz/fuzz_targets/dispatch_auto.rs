//! The dispatcher as an input with `format = "auto"` runs it: `gac_parse::parse` with
//! `Format::Auto`.
#![no_main]

use gac_parse::Format;
use gac_parse_fuzz::{consume, policy, received};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (event, parsed) = gac_parse::parse(data, received(), &policy(), Format::Auto);
    std::hint::black_box(parsed.format_name());
    consume(&[event]);
});
