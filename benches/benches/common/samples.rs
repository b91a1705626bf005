//! The authentication and web-server sample files the `parse_formats` bench and the
//! `parse_loop` example both read (sources in `crates/parse/tests/data/NOTICE.md`),
//! compiled in as (file name, text).

/// A sample file, compiled in.
macro_rules! data {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../../crates/parse/tests/data/", $name)),
        )
    };
}

pub const AUTH_FILES: &[(&str, &str)] = &[
    data!("linux-auth-crowdsec.log"),
    data!("linux-auth-elastic.log"),
    data!("linux-auth-fail2ban.log"),
    data!("linux-auth-loghub.log"),
    data!("linux-auth-wazuh.log"),
    data!("loghub-openssh.log"),
];

pub const WEB_FILES: &[(&str, &str)] = &[
    data!("web-crowdsec.log"),
    data!("web-elastic.log"),
    data!("apache-error-loghub.log"),
];
