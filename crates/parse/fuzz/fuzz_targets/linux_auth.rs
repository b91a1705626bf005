//! Linux authentication bodies (sshd, sudo, su, shadow tools, systemd-logind, PAM): the
//! input is a syslog line; each of these parsers that applies reads its message.
#![no_main]

use gac_parse_fuzz::{LINUX_AUTH_BODIES, bodies, consume};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    consume(&bodies(data, LINUX_AUTH_BODIES));
});
