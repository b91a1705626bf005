//! Linux authentication records after the syslog header (what `/var/log/auth.log` and
//! `/var/log/secure` hold): sshd, sudo, su, PAM modules, the shadow user and group tools
//! (useradd, usermod, userdel, groupadd, groupdel, gpasswd, passwd, chage, ...) and
//! systemd-logind. One body parser per program, chosen by the syslog app name.
//!
//! # Names
//!
//! `event.dataset` is the program that wrote the line: `sshd`, `sudo`, `su`, the shadow
//! tool's own name (`useradd`, `usermod`, `userdel`, `groupadd`, `groupmod`, `groupdel`,
//! `gpasswd`, `passwd`, `chpasswd`, `chage`, `chfn`, `chsh`), `systemd-logind`, and `pam`
//! for PAM module lines from programs with no parser of their own (cron, login, gdm,
//! vsftpd, ...). sshd's and sudo's own PAM lines (`pam_unix(sshd:auth): ...`) keep their
//! program's dataset, so `event.dataset:sshd` is everything sshd said. The old Linux-PAM
//! app names `sshd(pam_unix)`, `su(pam_unix)` count as their program; `process.name`
//! drops the `(pam_unix)`.
//!
//! Every recognised line gets `event.kind: event` and an `event.action`; the `category`
//! and `type` lists and `outcome` follow from the action:
//!
//! | action | category | type | lines |
//! |---|---|---|---|
//! | `ssh_login` | authentication | start | `Accepted`/`Failed <method> for ...`, `error: PAM: Authentication failure for ...` |
//! | `ssh_invalid_user` | authentication | info | `Invalid user X from ...`, `input_userauth_request: invalid user X` |
//! | `ssh_user_not_allowed` | authentication | info | `User X from H not allowed because ...`, `ROOT LOGIN REFUSED FROM ...` |
//! | `ssh_too_many_auth_failures` | authentication | info | `Disconnecting...: Too many authentication failures`, `maximum authentication attempts exceeded` |
//! | `ssh_connection` | network | connection, start | `Connection from A port P on B port Q` |
//! | `ssh_disconnect` | network | connection, end | `Received disconnect`, `Disconnected from`, `Connection closed/reset by`, `Timeout before authentication`, other `Disconnecting:` |
//! | `ssh_no_identification` | network | connection, info | `Did not receive identification string from ...` |
//! | `ssh_negotiation_failed` | network | connection, info | `Unable to negotiate`, `Bad protocol version identification`, `banner exchange`, `kex_exchange_identification` |
//! | `ssh_reverse_mapping_failed` | network | info | `... POSSIBLE BREAK-IN ATTEMPT!` |
//! | `ssh_subsystem_request` | session | info | `subsystem request for sftp by user X` |
//! | `authentication_failure` | authentication | info | PAM `authentication failure; ...`, `auth could not identify password` |
//! | `more_authentication_failures` | authentication | info | `PAM 4 more authentication failures; ...` |
//! | `user_unknown` | authentication | info | PAM `check pass; user unknown` |
//! | `account_locked` | authentication | info | pam_faillock, pam_tally2 lock-outs |
//! | `session_opened`, `session_closed` | session | start, end | PAM `session opened/closed for user X` |
//! | `session_created`, `session_removed`, `session_logged_out` | session | start, end, end | systemd-logind |
//! | `sudo_command` | process | start | `alice : TTY=... ; PWD=... ; USER=root ; COMMAND=...` (failure when sudo names an error: `3 incorrect password attempts`, `user NOT in sudoers`) |
//! | `switch_user` | authentication, session | start | su: `Successful su`, `+ tty a:b`, `FAILED SU`, `BAD SU`, ... |
//! | `user_created`, `user_deleted`, `user_modified` | iam | user + creation/deletion/change | `new user:`, `delete user`, usermod/chage/chfn changes |
//! | `password_changed` | iam | user, change | PAM `password changed for X`, `password for 'X' changed by 'Y'` |
//! | `group_created`, `group_deleted` | iam | group + creation/deletion | `new group:`, `group 'g' removed`, `remove group` |
//! | `user_added_to_group`, `user_removed_from_group` | iam | user, group, change | `add 'u' to group 'g'`, gpasswd |
//! | `group_file_updated` | iam | group, info | the per-file echoes of a group change (`group added to /etc/gshadow`, `add 'u' to shadow group`): count `group_created` / `user_added_to_group`, not these |
//!
//! Users: `user.name` is who acted or whose account is logging in; `user.target.name` the
//! account acted on (sudo's `USER=`, su's target, the user that useradd created). PAM
//! lines of su/sudo/runuser put the invoking user in `user.name` and the account switched
//! to in `user.target.name`. Non-ECS details live under `system.auth.*`, as Elastic's
//! `system` integration names them.
//!
//! A line of one of these programs that matches no known shape is still the program's
//! event (dataset, `event.kind`) without an action; a line that starts like a known shape
//! and then breaks it is a [`FormatError`].

use std::net::IpAddr;

use gac_event::{Event, Value, field};
use nom::bytes::complete::{tag, take_till1};
use nom::character::complete::u16 as port_number;
use nom::combinator::opt;
use nom::sequence::preceded;
use nom::{IResult, Parser};

use super::{Context, FormatError};
use crate::text::{Cut, is_ipv4};

/// How an action is classified: its name and ECS category and type lists.
#[derive(Debug)]
struct Action {
    name: &'static str,
    category: &'static [Value],
    kind: &'static [Value],
}

/// A constant list of ECS keywords, built at compile time.
macro_rules! keywords {
    ($($word:expr),+) => {{
        const LIST: &[Value] = &[$(Value::from_static($word)),+];
        LIST
    }};
}

const AUTHENTICATION: &str = "authentication";
const SESSION: &str = "session";
const NETWORK: &str = "network";
const IAM: &str = "iam";
const PROCESS: &str = "process";

const fn action(name: &'static str, category: &'static [Value], kind: &'static [Value]) -> Action {
    Action {
        name,
        category,
        kind,
    }
}

const SSH_LOGIN: Action = action("ssh_login", keywords![AUTHENTICATION], keywords!["start"]);
const SSH_INVALID_USER: Action = action(
    "ssh_invalid_user",
    keywords![AUTHENTICATION],
    keywords!["info"],
);
const SSH_USER_NOT_ALLOWED: Action = action(
    "ssh_user_not_allowed",
    keywords![AUTHENTICATION],
    keywords!["info"],
);
const SSH_TOO_MANY: Action = action(
    "ssh_too_many_auth_failures",
    keywords![AUTHENTICATION],
    keywords!["info"],
);
const SSH_CONNECTION: Action = action(
    "ssh_connection",
    keywords![NETWORK],
    keywords!["connection", "start"],
);
const SSH_DISCONNECT: Action = action(
    "ssh_disconnect",
    keywords![NETWORK],
    keywords!["connection", "end"],
);
const SSH_NO_IDENT: Action = action(
    "ssh_no_identification",
    keywords![NETWORK],
    keywords!["connection", "info"],
);
const SSH_NEGOTIATION: Action = action(
    "ssh_negotiation_failed",
    keywords![NETWORK],
    keywords!["connection", "info"],
);
const SSH_REVERSE_MAPPING: Action = action(
    "ssh_reverse_mapping_failed",
    keywords![NETWORK],
    keywords!["info"],
);
const SSH_SUBSYSTEM: Action = action(
    "ssh_subsystem_request",
    keywords![SESSION],
    keywords!["info"],
);
const AUTH_FAILURE: Action = action(
    "authentication_failure",
    keywords![AUTHENTICATION],
    keywords!["info"],
);
const MORE_AUTH_FAILURES: Action = action(
    "more_authentication_failures",
    keywords![AUTHENTICATION],
    keywords!["info"],
);
const USER_UNKNOWN: Action = action("user_unknown", keywords![AUTHENTICATION], keywords!["info"]);
const ACCOUNT_LOCKED: Action = action(
    "account_locked",
    keywords![AUTHENTICATION],
    keywords!["info"],
);
const SESSION_OPENED: Action = action("session_opened", keywords![SESSION], keywords!["start"]);
const SESSION_CLOSED: Action = action("session_closed", keywords![SESSION], keywords!["end"]);
const SESSION_CREATED: Action = action("session_created", keywords![SESSION], keywords!["start"]);
const SESSION_REMOVED: Action = action("session_removed", keywords![SESSION], keywords!["end"]);
const SESSION_LOGGED_OUT: Action =
    action("session_logged_out", keywords![SESSION], keywords!["end"]);
const SUDO_COMMAND: Action = action("sudo_command", keywords![PROCESS], keywords!["start"]);
const SWITCH_USER: Action = action(
    "switch_user",
    keywords![AUTHENTICATION, SESSION],
    keywords!["start"],
);
const USER_CREATED: Action = action(
    "user_created",
    keywords![IAM],
    keywords!["user", "creation"],
);
const USER_DELETED: Action = action(
    "user_deleted",
    keywords![IAM],
    keywords!["user", "deletion"],
);
const USER_MODIFIED: Action = action("user_modified", keywords![IAM], keywords!["user", "change"]);
const PASSWORD_CHANGED: Action = action(
    "password_changed",
    keywords![IAM],
    keywords!["user", "change"],
);
const GROUP_CREATED: Action = action(
    "group_created",
    keywords![IAM],
    keywords!["group", "creation"],
);
const GROUP_DELETED: Action = action(
    "group_deleted",
    keywords![IAM],
    keywords!["group", "deletion"],
);
const ADDED_TO_GROUP: Action = action(
    "user_added_to_group",
    keywords![IAM],
    keywords!["user", "group", "change"],
);
const REMOVED_FROM_GROUP: Action = action(
    "user_removed_from_group",
    keywords![IAM],
    keywords!["user", "group", "change"],
);
const GROUP_FILE_UPDATED: Action = action(
    "group_file_updated",
    keywords![IAM],
    keywords!["group", "info"],
);

/// The datasets of the programs with a parser here.
const SSHD: &str = "sshd";
const SUDO: &str = "sudo";
const SU: &str = "su";
const LOGIND: &str = "systemd-logind";
const PAM: &str = "pam";
/// The shadow suite's tools; each is its own dataset.
const SHADOW_TOOLS: &[&str] = &[
    "useradd", "usermod", "userdel", "groupadd", "groupmod", "groupdel", "gpasswd", "passwd",
    "chpasswd", "chage", "chfn", "chsh", "newusers",
];
/// PAM services that switch users: their PAM `user` is the account switched to, and the
/// person is the requesting user (`ruser`, or the session's `by` user).
const SWITCH_SERVICES: &[&str] = &["su", "su-l", "sudo", "sudo-i", "runuser", "runuser-l"];

/// The program an app name names: `sshd(pam_unix)` is sshd.
fn program(app: Option<&str>) -> Option<&str> {
    app.map(|a| a.cut_byte(b'(').map_or(a, |(p, _)| p))
}

pub(super) fn is_sshd(app: Option<&str>, _msg: &str) -> bool {
    // `sshd-session` and `sshd-auth` are OpenSSH 9.8+'s per-connection processes.
    matches!(program(app), Some("sshd" | "sshd-session" | "sshd-auth"))
}

pub(super) fn is_sudo(app: Option<&str>, _msg: &str) -> bool {
    program(app) == Some(SUDO)
}

pub(super) fn is_su(app: Option<&str>, _msg: &str) -> bool {
    program(app) == Some(SU)
}

pub(super) fn is_shadow_tool(app: Option<&str>, _msg: &str) -> bool {
    program(app).is_some_and(|p| SHADOW_TOOLS.contains(&p))
}

pub(super) fn is_logind(app: Option<&str>, _msg: &str) -> bool {
    program(app) == Some(LOGIND)
}

/// PAM lines of any other program: `pam_unix(cron:session): ...`, or the old
/// `login(pam_unix)` app name. Asked after the program parsers above.
pub(super) fn is_pam(app: Option<&str>, msg: &str) -> bool {
    app.is_some_and(|a| a.ends_with(')') && a.contains("(pam_")) || pam_prefix(msg).is_some()
}

/// Sets what every line of a program gets. Returns the PAM module when the app name
/// carries one (`sshd(pam_unix)`): then the message is a PAM line without its prefix.
fn begin(event: &mut Event, ctx: &Context<'_>, dataset: &'static str) -> Option<String> {
    event.set_const(field::EVENT_DATASET, dataset);
    event.set_const(field::EVENT_KIND, "event");
    let app = match ctx.app {
        Some(app) => app,
        None => event.get_str(field::LOG_SYSLOG_APPNAME)?,
    };
    let (name, module) = app.strip_suffix(')')?.split_once('(')?;
    let (name, module) = (name.to_owned(), module.to_owned());
    event.set(field::PROCESS_NAME, name);
    Some(module)
}

/// Sets `event.action`, `category`, `type` and, when known, `outcome`.
fn mark(event: &mut Event, action: &Action, success: Option<bool>) {
    event.set_const(field::EVENT_ACTION, action.name);
    event.set(field::EVENT_CATEGORY, action.category);
    event.set(field::EVENT_TYPE, action.kind);
    if let Some(ok) = success {
        event.set_const(field::EVENT_OUTCOME, if ok { "success" } else { "failure" });
    }
}

/// A remote address as ECS wants it: an IP in `source.ip`, a name in `source.domain`.
fn set_source(event: &mut Event, addr: &str, port: Option<u16>) {
    // An IPv4 address is already written in canonical form: its text is kept.
    if is_ipv4(addr) {
        event.set(field::SOURCE_IP, addr);
    } else {
        set_other_source(event, addr);
    }
    if let Some(port) = port {
        event.set(field::SOURCE_PORT, port);
    }
}

/// [`set_source`] for what is not an IPv4 address: an IPv6 one, or a name.
fn set_other_source(event: &mut Event, addr: &str) {
    match addr.parse::<IpAddr>() {
        Ok(ip) => event.set(field::SOURCE_IP, ip),
        Err(_) if is_hostname(addr) => event.set(field::SOURCE_DOMAIN, addr),
        Err(_) => {}
    }
}

/// A DNS name as sshd and PAM print one: letters, digits, `.`, `-`, `_`, with at least
/// one letter (`192.030.0.6` is a broken address, not a name).
fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes().any(|b| b.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn set_nonempty(event: &mut Event, name: &'static str, value: &str) {
    if !value.is_empty() {
        event.set(name, value);
    }
}

fn unreadable(format: &'static str, what: &str) -> FormatError {
    FormatError::new(format, format!("unreadable {what} line"))
}

// ---------------------------------------------------------------------------------------
// sshd

pub(super) fn parse_sshd(
    msg: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    if let Some(module) = begin(event, ctx, SSHD) {
        pam_body(&module, SSHD, msg, event);
        return Ok(());
    }
    sshd_message(msg, event)
}

fn sshd_message(msg: &str, event: &mut Event) -> Result<(), FormatError> {
    let msg = msg.trim_end();
    // Where it happened in the handshake adds nothing the shape does not say.
    let msg = msg.strip_suffix("[preauth]").map_or(msg, str::trim_end);
    // Solaris puts the message id first: `[ID 800047 auth.info] Failed ...`.
    let msg = match msg.strip_prefix("[ID ").and_then(|m| m.cut("] ")) {
        Some((_, rest)) => rest,
        None => msg,
    };
    let msg = msg
        .strip_prefix("error: ")
        .or_else(|| msg.strip_prefix("fatal: "))
        .unwrap_or(msg);
    // Each shape below is tried only when the message starts with its first letter: a
    // byte compare instead of a string compare for each of the twenty-odd shapes a
    // line is not.
    let first = msg.as_bytes().first().copied().unwrap_or(0);

    if first == b'A'
        && let Some(rest) = msg.strip_prefix("Accepted ")
    {
        return ssh_login(rest, true, event);
    }
    if first == b'F'
        && let Some(rest) = msg.strip_prefix("Failed ")
    {
        return ssh_login(rest, false, event);
    }
    if first == b'I'
        && let Some(rest) = msg.strip_prefix("Invalid user ")
    {
        let (user, tail) = user_from(rest).ok_or_else(|| unreadable(SSHD, "invalid user"))?;
        mark(event, &SSH_INVALID_USER, Some(false));
        set_nonempty(event, field::USER_NAME, user);
        set_source(event, tail.addr, tail.port);
        return Ok(());
    }
    if first == b'i'
        && let Some(user) = msg.strip_prefix("input_userauth_request: invalid user ")
    {
        mark(event, &SSH_INVALID_USER, Some(false));
        set_nonempty(event, field::USER_NAME, user);
        return Ok(());
    }
    if matches!(first, b'C' | b'D')
        && let Some(rest) = msg
            .strip_prefix("Connection closed by ")
            .or_else(|| msg.strip_prefix("Connection reset by "))
            .or_else(|| msg.strip_prefix("Disconnected from "))
    {
        let (user, addr, port) =
            user_then_endpoint(rest).ok_or_else(|| unreadable(SSHD, "disconnect"))?;
        mark(event, &SSH_DISCONNECT, None);
        if let Some(user) = user {
            set_nonempty(event, field::USER_NAME, user);
        }
        set_source(event, addr, port);
        return Ok(());
    }
    if first == b'R'
        && let Some(rest) = msg.strip_prefix("Received disconnect from ")
    {
        return received_disconnect(rest, event);
    }
    if first == b'R'
        && let Some(rest) = msg.strip_prefix("Read error from remote host ")
        && let Some((addr, reason)) = rest.cut(": ")
        && let Some((addr, port)) = bare_endpoint(addr)
    {
        mark(event, &SSH_DISCONNECT, None);
        set_source(event, addr, port);
        event.set(field::EVENT_REASON, reason);
        return Ok(());
    }
    if first == b'D'
        && let Some(rest) = msg.strip_prefix("Disconnecting")
    {
        return disconnecting(rest, event);
    }
    if first == b'm'
        && let Some(rest) = msg.strip_prefix("maximum authentication attempts exceeded for ")
    {
        let rest = rest.strip_prefix("invalid user ").unwrap_or(rest);
        let (user, tail) = user_from(rest).ok_or_else(|| unreadable(SSHD, "maximum attempts"))?;
        mark(event, &SSH_TOO_MANY, Some(false));
        set_nonempty(event, field::USER_NAME, user);
        set_source(event, tail.addr, tail.port);
        return Ok(());
    }
    if first == b'D'
        && let Some(rest) = msg.strip_prefix("Did not receive identification string from ")
    {
        let (addr, port) = bare_endpoint(rest).ok_or_else(|| unreadable(SSHD, "identification"))?;
        mark(event, &SSH_NO_IDENT, Some(false));
        set_source(event, addr, port);
        return Ok(());
    }
    if first == b'r'
        && let Some(rest) = msg.strip_prefix("reverse mapping checking getaddrinfo for ")
    {
        // `HOST [IP] failed - POSSIBLE BREAK-IN ATTEMPT!`
        let (host, rest) = rest.cut(" [").ok_or_else(|| unreadable(SSHD, "mapping"))?;
        let (ip, _) = rest
            .split_once(']')
            .ok_or_else(|| unreadable(SSHD, "mapping"))?;
        mark(event, &SSH_REVERSE_MAPPING, None);
        set_source(event, ip, None);
        set_source(event, host, None);
        return Ok(());
    }
    if first == b'A'
        && let Some(rest) = msg.strip_prefix("Address ")
        && let Some((ip, rest)) = rest.cut(" maps to ")
        && let Some((host, _)) = rest.cut(", but this does not map back")
    {
        mark(event, &SSH_REVERSE_MAPPING, None);
        set_source(event, ip, None);
        set_source(event, host, None);
        return Ok(());
    }
    if first == b'U'
        && let Some(rest) = msg.strip_prefix("User ")
        && let Some((who, reason)) = rest.cut(" not allowed because ")
    {
        mark(event, &SSH_USER_NOT_ALLOWED, Some(false));
        let (user, from) = match who.cut_last(" from ") {
            Some((user, from)) => (user, Some(from)),
            None => (who, None),
        };
        set_nonempty(event, field::USER_NAME, user);
        if let Some(from) = from {
            set_source(event, from, None);
        }
        event.set(field::EVENT_REASON, reason);
        return Ok(());
    }
    if first == b'R'
        && let Some(rest) = msg.strip_prefix("ROOT LOGIN REFUSED FROM ")
    {
        let (addr, port) = bare_endpoint(rest).ok_or_else(|| unreadable(SSHD, "root refused"))?;
        mark(event, &SSH_USER_NOT_ALLOWED, Some(false));
        event.set(field::USER_NAME, "root");
        set_source(event, addr, port);
        return Ok(());
    }
    if first == b'U'
        && let Some(rest) = msg.strip_prefix("Unable to negotiate with ")
    {
        let (where_, reason) = rest
            .cut(": ")
            .ok_or_else(|| unreadable(SSHD, "negotiation"))?;
        let (addr, port) = bare_endpoint(where_).ok_or_else(|| unreadable(SSHD, "negotiation"))?;
        mark(event, &SSH_NEGOTIATION, Some(false));
        set_source(event, addr, port);
        event.set(field::EVENT_REASON, reason);
        return Ok(());
    }
    if first == b'B'
        && let Some(rest) = msg.strip_prefix("Bad protocol version identification ")
        && let Some((_, tail)) = rest.cut_last(" from ")
        && let Some((addr, port)) = bare_endpoint(tail)
    {
        mark(event, &SSH_NEGOTIATION, Some(false));
        set_source(event, addr, port);
        event.set(field::EVENT_REASON, "bad protocol version identification");
        return Ok(());
    }
    if matches!(first, b'b' | b's')
        && let Some(rest) = msg
            .strip_prefix("banner exchange: Connection from ")
            .or_else(|| msg.strip_prefix("ssh_dispatch_run_fatal: Connection from "))
    {
        let (where_, reason) = rest
            .cut(": ")
            .ok_or_else(|| unreadable(SSHD, "connection error"))?;
        let (addr, port) =
            bare_endpoint(where_).ok_or_else(|| unreadable(SSHD, "connection error"))?;
        let banner = msg.starts_with("banner");
        mark(
            event,
            if banner {
                &SSH_NEGOTIATION
            } else {
                &SSH_DISCONNECT
            },
            Some(false),
        );
        set_source(event, addr, port);
        event.set(field::EVENT_REASON, reason);
        return Ok(());
    }
    if first == b'k'
        && let Some(reason) = msg.strip_prefix("kex_exchange_identification: ")
    {
        mark(event, &SSH_NEGOTIATION, Some(false));
        event.set(field::EVENT_REASON, reason);
        return Ok(());
    }
    if first == b'C'
        && let Some(rest) = msg.strip_prefix("Connection from ")
    {
        // `A port P on B port Q[ rdomain "..."]`; older sshd stops after `A port P`.
        let (from, to) = rest.cut(" on ").unwrap_or((rest, ""));
        let (addr, port) = bare_endpoint(from).ok_or_else(|| unreadable(SSHD, "connection"))?;
        mark(event, &SSH_CONNECTION, None);
        set_source(event, addr, port);
        let to = to.cut(" rdomain").map_or(to, |(t, _)| t);
        if let Some((addr, port)) = bare_endpoint(to)
            && let Ok(ip) = addr.parse::<IpAddr>()
        {
            event.set(field::DESTINATION_IP, ip);
            if let Some(port) = port {
                event.set(field::DESTINATION_PORT, port);
            }
        }
        return Ok(());
    }
    if first == b'T'
        && let Some(rest) = msg.strip_prefix("Timeout before authentication for ")
    {
        mark(event, &SSH_DISCONNECT, Some(false));
        event.set(field::EVENT_REASON, "timeout before authentication");
        // `A port P`, or the old `connection from A to B, pid = N`.
        let rest = rest.strip_prefix("connection from ").unwrap_or(rest);
        let rest = rest.cut(" to ").map_or(rest, |(a, _)| a);
        if let Some((addr, port)) = bare_endpoint(rest) {
            set_source(event, addr, port);
        }
        return Ok(());
    }
    if first == b's'
        && let Some(rest) = msg.strip_prefix("subsystem request for ")
    {
        let (subsystem, user) = rest
            .cut(" by user ")
            .ok_or_else(|| unreadable(SSHD, "subsystem"))?;
        let (user, failed) = match user.strip_suffix(" failed, subsystem not found") {
            Some(user) => (user, true),
            None => (user, false),
        };
        mark(event, &SSH_SUBSYSTEM, Some(!failed));
        event.set(field::SYSTEM_AUTH_SSH_SUBSYSTEM, subsystem);
        set_nonempty(event, field::USER_NAME, user);
        return Ok(());
    }
    if first == b'P'
        && let Some(rest) = msg.strip_prefix("PAM: ")
    {
        return sshd_pam_error(rest, event);
    }
    if first == b'm'
        && let Some(rest) = msg.strip_prefix("message repeated ")
        && let Some((_, inner)) = rest.cut(" times: [ ")
    {
        // rsyslog folded identical lines; the event is the line that was repeated.
        return sshd_message(inner.strip_suffix(']').unwrap_or(inner), event);
    }
    if let Some((module, service, body)) = pam_prefix(msg) {
        pam_body(module, service, body, event);
        return Ok(());
    }
    if first == b'P'
        && let Some(rest) = msg.strip_prefix("PAM ")
    {
        // sshd's own summary: `PAM 4 more authentication failures; logname= ... rhost=X`.
        pam_body("", SSHD, rest, event);
    }
    Ok(())
}

/// `<method> for [invalid user ]<user> from <addr> port <n> ssh2[: <key>]`, after
/// `Accepted ` or `Failed `.
fn ssh_login(rest: &str, success: bool, event: &mut Event) -> Result<(), FormatError> {
    let (method, rest) = rest.cut(" for ").ok_or_else(|| unreadable(SSHD, "login"))?;
    let (invalid, rest) = match rest.strip_prefix("invalid user ") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let (user, tail) = user_from(rest).ok_or_else(|| unreadable(SSHD, "login"))?;
    mark(event, &SSH_LOGIN, Some(success));
    event.set(field::SYSTEM_AUTH_SSH_METHOD, method);
    set_nonempty(event, field::USER_NAME, user);
    set_source(event, tail.addr, tail.port);
    if invalid {
        event.set_const(field::EVENT_REASON, "invalid user");
    }
    // Key logins end `: RSA SHA256:...`; what follows other methods is not a key (the
    // ssh1 `ruser` text, attacker-chosen).
    if matches!(method, "publickey" | "hostbased") && !tail.extra.is_empty() {
        let signature = tail.extra.split_once(',').map_or(tail.extra, |(s, _)| s);
        event.set(field::SYSTEM_AUTH_SSH_SIGNATURE, signature);
    }
    Ok(())
}

/// `error: PAM: <what> for [illegal user ]<user> from <host>[ via <ip>]`.
fn sshd_pam_error(rest: &str, event: &mut Event) -> Result<(), FormatError> {
    let Some((what, rest)) = rest.cut(" for ") else {
        return Ok(());
    };
    let rest = rest.strip_prefix("illegal user ").unwrap_or(rest);
    let (user, from) = rest
        .cut_last(" from ")
        .ok_or_else(|| unreadable(SSHD, "PAM error"))?;
    let from = from.cut(" via ").map_or(from, |(host, _)| host);
    mark(event, &SSH_LOGIN, Some(false));
    event.set(field::EVENT_REASON, what);
    set_nonempty(event, field::USER_NAME, user);
    set_source(event, from, None);
    Ok(())
}

/// `from IP[ port N]: CODE: reason`, or `from IP port N:CODE: reason`.
fn received_disconnect(rest: &str, event: &mut Event) -> Result<(), FormatError> {
    let (head, reason) = rest
        .cut(": ")
        .ok_or_else(|| unreadable(SSHD, "received disconnect"))?;
    // `IP port N:CODE` (new) or `IP` (old, the code then starts `reason`).
    let (addr, port, reason) = match head.cut(" port ") {
        Some((addr, port_code)) => {
            let port = port_code.split_once(':').map_or(port_code, |(p, _)| p);
            (addr, port.parse().ok(), reason)
        }
        None => {
            let reason = reason
                .cut(": ")
                .filter(|(code, _)| code.bytes().all(|b| b.is_ascii_digit()))
                .map_or(reason, |(_, r)| r);
            (head, None, reason)
        }
    };
    mark(event, &SSH_DISCONNECT, None);
    set_source(event, addr, port);
    set_nonempty(event, field::EVENT_REASON, reason.trim());
    Ok(())
}

/// After `Disconnecting`: `: Too many authentication failures[ for X]`,
/// ` authenticating user X A port P: Too many ...`, or `: <other reason>`.
fn disconnecting(rest: &str, event: &mut Event) -> Result<(), FormatError> {
    if let Some(reason) = rest.strip_prefix(": ") {
        if let Some(tail) = reason.strip_prefix("Too many authentication failures") {
            mark(event, &SSH_TOO_MANY, Some(false));
            if let Some(user) = tail.strip_prefix(" for ") {
                let user = user.strip_prefix("invalid user ").unwrap_or(user);
                set_nonempty(event, field::USER_NAME, user);
            }
        } else {
            mark(event, &SSH_DISCONNECT, None);
            event.set(field::EVENT_REASON, reason);
        }
        return Ok(());
    }
    let (who, reason) = rest
        .trim_start()
        .cut(": ")
        .ok_or_else(|| unreadable(SSHD, "disconnecting"))?;
    let (user, addr, port) =
        user_then_endpoint(who).ok_or_else(|| unreadable(SSHD, "disconnecting"))?;
    if reason.starts_with("Too many authentication failures") {
        mark(event, &SSH_TOO_MANY, Some(false));
    } else {
        mark(event, &SSH_DISCONNECT, None);
        event.set(field::EVENT_REASON, reason);
    }
    if let Some(user) = user {
        set_nonempty(event, field::USER_NAME, user);
    }
    set_source(event, addr, port);
    Ok(())
}

/// What follows a user name: the client's address, its port, and what sshd wrote after
/// (`RSA SHA256:...` for key logins).
#[derive(Debug, PartialEq)]
struct Tail<'a> {
    addr: &'a str,
    port: Option<u16>,
    extra: &'a str,
}

/// `<user> from <addr>[ port <n>[ ssh2]][: extra]`. User names are the client's to
/// choose and may hold ` from 10.0.0.1 port 22 ssh2` themselves, so the split is at the
/// first ` from ` whose remainder is a whole, well-formed tail: `from 1.2.3.4 from
/// 5.6.7.8 port 22 ssh2` is user `from 1.2.3.4`. (fail2ban's injection tests.)
fn user_from(s: &str) -> Option<(&str, Tail<'_>)> {
    let mut start = 0;
    while let Some(i) = s[start..].locate("from ") {
        let at = start + i;
        if (at == 0 || s.as_bytes()[at - 1] == b' ')
            && let Some(tail) = from_tail(&s[at + 5..])
        {
            return Some((&s[..at.saturating_sub(1)], tail));
        }
        start = at + 5;
    }
    None
}

/// The part after `from `: `<addr>[ port <n>[ <protocol>]]`, then the end or `: extra`.
fn from_tail(s: &str) -> Option<Tail<'_>> {
    let parsed: IResult<&str, _> = (
        take_till1(|c| c == ' '),
        opt(preceded(tag(" port "), port_number)),
        opt(preceded(tag(" "), ssh_protocol)),
    )
        .parse(s);
    let (rest, (addr, port, _)) = parsed.ok()?;
    let addr = addr.strip_suffix(':').unwrap_or(addr);
    if !(is_ipv4(addr) || addr.parse::<IpAddr>().is_ok() || is_hostname(addr)) {
        return None;
    }
    let extra = if rest.is_empty() {
        ""
    } else {
        rest.strip_prefix(':')?.trim_start()
    };
    Some(Tail { addr, port, extra })
}

fn ssh_protocol(s: &str) -> IResult<&str, &str> {
    nom::branch::alt((tag("ssh2"), tag("ssh1"))).parse(s)
}

/// `<addr>[ port <n>]` and nothing else.
fn bare_endpoint(s: &str) -> Option<(&str, Option<u16>)> {
    let s = s.trim_end();
    let (addr, port) = match s.cut(" port ") {
        Some((addr, port)) => (addr, Some(port.parse().ok()?)),
        None => (s, None),
    };
    (!addr.is_empty() && !addr.contains(' ')).then_some((addr, port))
}

/// `[authenticating user X |invalid user X |user X ]<addr>[ port <n>]`.
fn user_then_endpoint(s: &str) -> Option<(Option<&str>, &str, Option<u16>)> {
    let s = s.trim_end();
    let (rest, port) = match s.cut_last(" port ") {
        Some((rest, port)) => (rest, Some(port.parse().ok()?)),
        None => (s, None),
    };
    let user_part = rest
        .strip_prefix("authenticating user ")
        .or_else(|| rest.strip_prefix("invalid user "))
        .or_else(|| rest.strip_prefix("user "));
    match user_part {
        Some(user_addr) => {
            let (user, addr) = user_addr.rsplit_once(' ')?;
            Some((Some(user), addr, port))
        }
        // An unknown qualifier before the address: the address is still the last word.
        None => {
            let addr = rest.rsplit_once(' ').map_or(rest, |(_, a)| a);
            (!addr.is_empty()).then_some((None, addr, port))
        }
    }
}

// ---------------------------------------------------------------------------------------
// PAM

/// A PAM module's line into (module, service, body): `pam_unix(sshd:auth): body`, and
/// the older `pam_unix(auth): body`, `pam_unix: body`, `(pam_unix) body`.
fn pam_prefix(msg: &str) -> Option<(&str, &str, &str)> {
    if let Some(rest) = msg.strip_prefix("(pam_") {
        let (name, body) = rest.cut(") ")?;
        return Some((&msg[1..name.len() + 5], "", body));
    }
    if !msg.starts_with("pam_") {
        return None;
    }
    let name_end = msg.find(['(', ':', ' '])?;
    let (module, rest) = msg.split_at(name_end);
    if let Some(body) = rest.strip_prefix(": ") {
        return Some((module, "", body));
    }
    let (inside, body) = rest.strip_prefix('(')?.cut("): ")?;
    let service = inside.split_once(':').map_or(inside, |(s, _)| s);
    Some((module, service, body))
}

pub(super) fn parse_pam(
    msg: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    if let Some(module) = begin(event, ctx, PAM) {
        let service = event
            .get_str(field::PROCESS_NAME)
            .unwrap_or_default()
            .to_owned();
        pam_body(&module, &service, msg, event);
    } else if let Some((module, service, body)) = pam_prefix(msg) {
        pam_body(module, service, body, event);
    }
    Ok(())
}

/// The text after a PAM module's `module(service:facility): ` prefix.
fn pam_body(module: &str, service: &str, body: &str, event: &mut Event) {
    let switch = SWITCH_SERVICES.contains(&service);
    let body = body.trim_end();
    if let Some(kv) = body.strip_prefix("authentication failure;") {
        mark(event, &AUTH_FAILURE, Some(false));
        pam_auth_fields(kv, switch, event);
    } else if let Some((count, kv)) = more_failures(body) {
        mark(event, &MORE_AUTH_FAILURES, Some(false));
        event.set(field::EVENT_REASON, count);
        pam_auth_fields(kv, switch, event);
    } else if body == "check pass; user unknown" {
        mark(event, &USER_UNKNOWN, Some(false));
    } else if let Some(rest) = body.strip_prefix("session opened for user ") {
        mark(event, &SESSION_OPENED, Some(true));
        // `X by Y(uid=N)`, `X(uid=0) by Y(uid=N)`, `X by (uid=0)`.
        let (user, by) = rest.cut(" by ").unwrap_or((rest, ""));
        let user = user.split_once('(').map_or(user, |(u, _)| u);
        let by = by.split_once('(').map_or(by, |(b, _)| b);
        if switch {
            set_nonempty(event, field::USER_NAME, by);
            set_nonempty(event, field::USER_TARGET_NAME, user);
        } else {
            set_nonempty(event, field::USER_NAME, user);
        }
    } else if let Some(user) = body.strip_prefix("session closed for user ") {
        mark(event, &SESSION_CLOSED, Some(true));
        let user = user.split_once('(').map_or(user, |(u, _)| u);
        let name = if switch {
            field::USER_TARGET_NAME
        } else {
            field::USER_NAME
        };
        set_nonempty(event, name, user);
    } else if let Some(user) = body.strip_prefix("password changed for ") {
        mark(event, &PASSWORD_CHANGED, Some(true));
        set_nonempty(event, field::USER_TARGET_NAME, user);
    } else if let Some(user) = body.strip_prefix("auth could not identify password for [") {
        mark(event, &AUTH_FAILURE, Some(false));
        event.set(field::EVENT_REASON, "could not identify password");
        set_nonempty(event, field::USER_NAME, user.trim_end_matches(']'));
    } else if let Some(rest) = body.strip_prefix("Consecutive login failures for user ") {
        // pam_faillock: `... for user X account temporarily locked`.
        mark(event, &ACCOUNT_LOCKED, Some(false));
        let user = rest.split_once(' ').map_or(rest, |(u, _)| u);
        set_nonempty(event, field::USER_NAME, user);
    } else if module == "pam_tally2"
        && let Some(rest) = body.strip_prefix("user ")
        && rest.contains(" tally ")
    {
        // pam_tally2 logs `user X (uid) tally N, deny M` when it denies access.
        mark(event, &ACCOUNT_LOCKED, Some(false));
        let user = rest.split_once(' ').map_or(rest, |(u, _)| u);
        set_nonempty(event, field::USER_NAME, user);
    } else if let Some(rest) = body.strip_prefix("requirement ")
        && let Some((_, user)) = rest.cut(" not met by user ")
    {
        set_nonempty(event, field::USER_NAME, user.trim_matches('"'));
    }
}

/// `4 more authentication failures; <kv>` (also singular) into ("4 more ...", kv).
fn more_failures(body: &str) -> Option<(&str, &str)> {
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || !body[digits..].starts_with(" more authentication failure") {
        return None;
    }
    body.split_once(';')
}

/// `logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root`: the user and the
/// remote host. pam_unix writes the pairs in this order, `user` last after two blanks;
/// `ruser` and `user` may be the client's to choose and hold ` rhost=...` themselves, so
/// the user runs from the first `  user=` to the end and the host is the last `rhost=`
/// before it (fail2ban's injection tests).
fn pam_auth_fields(kv: &str, switch: bool, event: &mut Event) {
    let (head, user) = match kv.cut("  user=").or_else(|| kv.cut(" user=")) {
        Some((head, user)) => (head, user.trim()),
        None => (kv, ""),
    };
    let (head, rhost) = match head.cut_last("rhost=") {
        Some((head, rhost)) => (head, rhost.trim()),
        None => (head, ""),
    };
    let ruser = head.cut("ruser=").map_or("", |(_, r)| r.trim());
    let logname = head
        .cut("logname=")
        .and_then(|(_, l)| l.split_ascii_whitespace().next())
        .filter(|l| !l.contains('='))
        .unwrap_or("");
    if switch {
        // sudo checks the invoking user's own password: then `user` is `ruser` again.
        let person = if ruser.is_empty() { logname } else { ruser };
        set_nonempty(event, field::USER_NAME, person);
        if user != person {
            set_nonempty(event, field::USER_TARGET_NAME, user);
        }
    } else {
        set_nonempty(event, field::USER_NAME, user);
    }
    if !rhost.is_empty() {
        set_source(event, rhost, None);
    }
}

// ---------------------------------------------------------------------------------------
// sudo

pub(super) fn parse_sudo(
    msg: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    if let Some(module) = begin(event, ctx, SUDO) {
        pam_body(&module, SUDO, msg, event);
        return Ok(());
    }
    if let Some((module, service, body)) = pam_prefix(msg) {
        pam_body(module, service, body, event);
        return Ok(());
    }
    // `   alice : [error ; ]TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls`
    let Some((user, rest)) = msg.cut(" : ") else {
        return Ok(());
    };
    let user = user.trim();
    if user.is_empty() || user.contains(' ') {
        return Ok(());
    }
    event.set(field::USER_NAME, user);
    if rest.starts_with("(command continued)") {
        return Ok(());
    }
    let mut reason = None;
    let mut command = None;
    let mut rest = rest;
    loop {
        // COMMAND comes last and may hold ` ; ` itself.
        if let Some(cmd) = rest.strip_prefix("COMMAND=") {
            command = Some(cmd);
            break;
        }
        let (item, next) = rest.cut(" ; ").unwrap_or((rest, ""));
        match item.split_once('=') {
            Some((key, value)) if key.bytes().all(|b| b.is_ascii_uppercase()) => match key {
                "TTY" => event.set(field::SYSTEM_AUTH_SUDO_TTY, value),
                "PWD" => event.set(field::PROCESS_WORKING_DIRECTORY, value),
                "USER" => event.set(field::USER_TARGET_NAME, value),
                _ => {}
            },
            _ => reason = Some(item),
        }
        if next.is_empty() {
            break;
        }
        rest = next;
    }
    if command.is_none() && reason.is_none() {
        return Err(unreadable(SUDO, "command"));
    }
    mark(event, &SUDO_COMMAND, Some(reason.is_none()));
    if let Some(reason) = reason {
        event.set(field::EVENT_REASON, reason);
    }
    if let Some(command) = command {
        event.set(field::PROCESS_COMMAND_LINE, command);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// su

pub(super) fn parse_su(msg: &str, event: &mut Event, ctx: &Context<'_>) -> Result<(), FormatError> {
    if let Some(module) = begin(event, ctx, SU) {
        pam_body(&module, SU, msg, event);
        return Ok(());
    }
    if let Some((module, service, body)) = pam_prefix(msg) {
        pam_body(module, service, body, event);
        return Ok(());
    }
    let msg = msg.trim_end();
    // (who, target, succeeded)
    let switch = if let Some(rest) = msg.strip_prefix("Successful su for ") {
        rest.cut(" by ").map(|(to, by)| (by, to, true))
    } else if let Some(rest) = msg.strip_prefix("FAILED su for ") {
        rest.cut(" by ").map(|(to, by)| (by, to, false))
    } else if let Some(rest) = msg
        .strip_prefix("+ ")
        .map(|r| (r, true))
        .or_else(|| msg.strip_prefix("- ").map(|r| (r, false)))
    {
        // `+ /dev/pts/1 root:tsg`: tty, then from:to.
        let (rest, ok) = rest;
        rest.split_once(' ')
            .and_then(|(_, pair)| pair.split_once(':'))
            .map(|(by, to)| (by, to, ok))
    } else if let Some(rest) = msg.strip_prefix("FAILED SU (to ") {
        // util-linux: `FAILED SU (to root) alice on pts/0`.
        switch_to(rest).map(|(to, by)| (by, to, false))
    } else if let Some(rest) = msg.strip_prefix("(to ") {
        switch_to(rest).map(|(to, by)| (by, to, true))
    } else if let Some(rest) = msg.strip_prefix("BAD SU ") {
        // Old BSD su: `BAD SU alice to root on /dev/ttyp0`.
        rest.cut(" to ")
            .map(|(by, to)| (by, to.cut(" on ").map_or(to, |(t, _)| t), false))
    } else if let Some(rest) = msg.strip_prefix("failed: ") {
        // `failed: ttyq4 changing from alice to root`.
        rest.cut(" changing from ")
            .and_then(|(_, pair)| pair.cut(" to "))
            .map(|(by, to)| (by, to, false))
    } else if let Some((by, rest)) = msg.cut(" to ")
        && !by.contains(' ')
        && let Some((to, _)) = rest.cut(" on ")
    {
        // Old BSD su: `alice to root on /dev/ttyp1`.
        Some((by, to, true))
    } else {
        None
    };
    if let Some((by, to, ok)) = switch {
        mark(event, &SWITCH_USER, Some(ok));
        set_nonempty(event, field::USER_NAME, by.trim());
        set_nonempty(event, field::USER_TARGET_NAME, to.trim());
    }
    Ok(())
}

/// `root) alice on pts/0` into ("root", "alice").
fn switch_to(rest: &str) -> Option<(&str, &str)> {
    let (to, rest) = rest.cut(") ")?;
    let by = rest.cut(" on ").map_or(rest, |(b, _)| b);
    Some((to, by))
}

// ---------------------------------------------------------------------------------------
// Shadow tools

pub(super) fn parse_shadow(
    msg: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    let app = program(event.get_str(field::LOG_SYSLOG_APPNAME));
    let dataset = SHADOW_TOOLS
        .iter()
        .find(|&&t| Some(t) == app)
        .copied()
        .unwrap_or("shadow");
    if let Some(module) = begin(event, ctx, dataset) {
        pam_body(&module, dataset, msg, event);
        return Ok(());
    }
    if let Some((module, service, body)) = pam_prefix(msg) {
        pam_body(module, service, body, event);
        return Ok(());
    }
    shadow_message(msg.trim_end(), event)
}

fn shadow_message(msg: &str, event: &mut Event) -> Result<(), FormatError> {
    if let Some(rest) = msg.strip_prefix("new user: ") {
        mark(event, &USER_CREATED, Some(true));
        for (key, value) in comma_pairs(rest) {
            match key.to_ascii_lowercase().as_str() {
                "name" => event.set(field::USER_TARGET_NAME, value),
                "uid" => set_id(event, field::USER_TARGET_ID, value),
                "gid" => set_id(event, field::GROUP_ID, value),
                "home" => event.set(field::SYSTEM_AUTH_USERADD_HOME, value),
                "shell" => event.set(field::SYSTEM_AUTH_USERADD_SHELL, value),
                _ => {}
            }
        }
        return Ok(());
    }
    if let Some(rest) = msg.strip_prefix("new group: ") {
        mark(event, &GROUP_CREATED, Some(true));
        group_pairs(rest, event);
        return Ok(());
    }
    if let Some(rest) = msg.strip_prefix("group added to ") {
        // `group added to /etc/group: name=tsg, GID=1003`
        let (file, pairs) = rest
            .cut(": ")
            .ok_or_else(|| unreadable("shadow", "group added"))?;
        mark(event, &GROUP_FILE_UPDATED, Some(true));
        event.set(field::FILE_PATH, file);
        group_pairs(pairs, event);
        return Ok(());
    }
    if let Some(rest) = msg.strip_prefix("add ") {
        // usermod/useradd: `add 'alice' to group 'sudo'`, `... to shadow group 'sudo'`.
        let (user, rest) = quoted(rest).ok_or_else(|| unreadable("shadow", "add"))?;
        return group_membership(user, rest.trim_start(), "to ", true, event);
    }
    if let Some(rest) = msg.strip_prefix("delete ")
        && (rest.starts_with('\'') || rest.starts_with('`'))
    {
        let (user, rest) = quoted(rest).ok_or_else(|| unreadable("shadow", "delete"))?;
        return group_membership(user, rest.trim_start(), "from ", false, event);
    }
    if let Some(rest) = msg.strip_prefix("user ")
        && let Some((user, rest)) = rest.split_once(' ')
    {
        // gpasswd: `user alice added by root to group sudo`, `... removed by root from ...`.
        let (added, rest) = if let Some(r) = rest.strip_prefix("added by ") {
            (true, r)
        } else if let Some(r) = rest.strip_prefix("removed by ") {
            (false, r)
        } else {
            return Ok(());
        };
        let (by, group) = rest
            .split_once(if added { " to group " } else { " from group " })
            .ok_or_else(|| unreadable("shadow", "gpasswd"))?;
        mark(
            event,
            if added {
                &ADDED_TO_GROUP
            } else {
                &REMOVED_FROM_GROUP
            },
            Some(true),
        );
        event.set(field::USER_NAME, by);
        event.set(field::USER_TARGET_NAME, user);
        event.set(field::GROUP_NAME, group);
        return Ok(());
    }
    if let Some(rest) = msg.strip_prefix("delete user ") {
        let (user, _) = quoted(rest).ok_or_else(|| unreadable("shadow", "delete user"))?;
        mark(event, &USER_DELETED, Some(true));
        event.set(field::USER_TARGET_NAME, user);
        return Ok(());
    }
    if let Some(rest) = msg
        .strip_prefix("remove group ")
        .or_else(|| msg.strip_prefix("removed group "))
    {
        // `remove group 'g'` (old), `removed group 'g' owned by 'u'` (userdel).
        let (group, _) = quoted(rest).ok_or_else(|| unreadable("shadow", "remove group"))?;
        mark(event, &GROUP_DELETED, Some(true));
        event.set(field::GROUP_NAME, group);
        return Ok(());
    }
    if let Some(rest) = msg.strip_prefix("group ")
        && (rest.starts_with('\'') || rest.starts_with('`'))
    {
        // groupdel: `group 'g' removed`, then `group 'g' removed from /etc/gshadow`.
        let (group, rest) = quoted(rest).ok_or_else(|| unreadable("shadow", "group"))?;
        if let Some(file) = rest.strip_prefix(" removed from ") {
            mark(event, &GROUP_FILE_UPDATED, Some(true));
            event.set(field::FILE_PATH, file);
        } else if rest == " removed" {
            mark(event, &GROUP_DELETED, Some(true));
        } else {
            return Ok(());
        }
        event.set(field::GROUP_NAME, group);
        return Ok(());
    }
    if let Some(rest) = msg.strip_prefix("failed adding user ") {
        let (user, _) = quoted(rest).ok_or_else(|| unreadable("shadow", "failed adding"))?;
        mark(event, &USER_CREATED, Some(false));
        event.set(field::USER_TARGET_NAME, user);
        return Ok(());
    }
    if let Some(rest) = msg.strip_prefix("password for ") {
        // passwd: `password for 'alice' changed by 'root'`.
        let (user, rest) = quoted(rest).ok_or_else(|| unreadable("shadow", "password"))?;
        mark(event, &PASSWORD_CHANGED, Some(true));
        event.set(field::USER_TARGET_NAME, user);
        if let Some((by, _)) = rest.strip_prefix(" changed by ").and_then(quoted) {
            event.set(field::USER_NAME, by);
        }
        return Ok(());
    }
    if let Some(rest) = msg.strip_prefix("change user ") {
        // usermod: `change user 'alice' password`, `change user name 'a' to 'b'`, ...
        let rest = rest.strip_prefix("name ").unwrap_or(rest);
        let (user, what) = quoted(rest).ok_or_else(|| unreadable("shadow", "change user"))?;
        let password = what == " password";
        mark(
            event,
            if password {
                &PASSWORD_CHANGED
            } else {
                &USER_MODIFIED
            },
            Some(true),
        );
        event.set(field::USER_TARGET_NAME, user);
        return Ok(());
    }
    let lock = msg
        .strip_prefix("lock user ")
        .or_else(|| msg.strip_prefix("unlock user "))
        .or_else(|| msg.strip_prefix("changed user "));
    if let Some(rest) = lock {
        // usermod -L/-U, chfn and chsh: `changed user 'tsg' information`.
        let (user, _) = quoted(rest).ok_or_else(|| unreadable("shadow", "user change"))?;
        mark(event, &USER_MODIFIED, Some(true));
        event.set(field::USER_TARGET_NAME, user);
        return Ok(());
    }
    if let Some(user) = msg.strip_prefix("changed password expiry for ") {
        mark(event, &USER_MODIFIED, Some(true));
        event.set(field::USER_TARGET_NAME, user);
    }
    Ok(())
}

/// After `add 'u' ` / `delete 'u' `: `to group 'g'`, `to shadow group 'g'` (and `from`).
fn group_membership(
    user: &str,
    rest: &str,
    preposition: &str,
    added: bool,
    event: &mut Event,
) -> Result<(), FormatError> {
    let Some(rest) = rest.strip_prefix(preposition) else {
        return Ok(());
    };
    let (shadow, rest) = match rest.strip_prefix("shadow group ") {
        Some(rest) => (true, rest),
        None => (false, rest.strip_prefix("group ").unwrap_or(rest)),
    };
    let (group, _) = quoted(rest).ok_or_else(|| unreadable("shadow", "group member"))?;
    let action = match (shadow, added) {
        (true, _) => &GROUP_FILE_UPDATED,
        (false, true) => &ADDED_TO_GROUP,
        (false, false) => &REMOVED_FROM_GROUP,
    };
    mark(event, action, Some(true));
    event.set(field::USER_TARGET_NAME, user);
    event.set(field::GROUP_NAME, group);
    Ok(())
}

/// `name=tsg, GID=1003` into `group.name` and `group.id`.
fn group_pairs(pairs: &str, event: &mut Event) {
    for (key, value) in comma_pairs(pairs) {
        if key.eq_ignore_ascii_case("name") {
            event.set(field::GROUP_NAME, value);
        } else if key.eq_ignore_ascii_case("gid") {
            set_id(event, field::GROUP_ID, value);
        }
    }
}

/// ECS ids are keywords: kept as the digits written.
fn set_id(event: &mut Event, name: &'static str, value: &str) {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        event.set(name, value);
    }
}

/// `k=v, k2=v2` pairs.
fn comma_pairs(s: &str) -> impl Iterator<Item = (&str, &str)> {
    s.split(", ").filter_map(|pair| pair.trim().split_once('='))
}

/// A name in shadow's quotes, `'x'` or the old `` `x' ``, and the text after it.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('\'').or_else(|| s.strip_prefix('`'))?;
    let end = s.find('\'')?;
    Some((&s[..end], &s[end + 1..]))
}

// ---------------------------------------------------------------------------------------
// systemd-logind

pub(super) fn parse_logind(
    msg: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    begin(event, ctx, LOGIND);
    let msg = msg.trim_end().trim_end_matches('.');
    if let Some(rest) = msg.strip_prefix("New session ") {
        // `New session 3 of user root.`
        let (id, user) = rest
            .cut(" of user ")
            .ok_or_else(|| unreadable(LOGIND, "new session"))?;
        mark(event, &SESSION_CREATED, Some(true));
        event.set(field::SYSTEM_AUTH_LOGIND_SESSION_ID, id);
        event.set(field::USER_NAME, user);
    } else if let Some(id) = msg.strip_prefix("Removed session ") {
        mark(event, &SESSION_REMOVED, Some(true));
        event.set(field::SYSTEM_AUTH_LOGIND_SESSION_ID, id);
    } else if let Some(rest) = msg.strip_prefix("Session ")
        && let Some((id, _)) = rest.cut(" logged out")
    {
        mark(event, &SESSION_LOGGED_OUT, Some(true));
        event.set(field::SYSTEM_AUTH_LOGIND_SESSION_ID, id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, TimePolicy, parse};
    use gac_event::Timestamp;

    fn event(line: &str) -> Event {
        let received: Timestamp = "2025-07-01T03:00:00Z".parse().unwrap();
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let (event, parsed) = parse(line.as_bytes(), received, &policy, Format::Syslog);
        assert_eq!(parsed.body, crate::BodyOutcome::Parsed, "{line}: {event:?}");
        event
    }

    fn s<'e>(e: &'e Event, name: &str) -> Option<&'e str> {
        e.get_str(name)
    }

    #[test]
    fn accepted_publickey_sets_user_source_method_and_key() {
        let e = event(
            "Feb 21 21:54:44 localhost sshd[3402]: Accepted publickey for vagrant from 10.0.2.2 port 63673 ssh2: RSA 39:33:99:e9",
        );
        assert_eq!(s(&e, field::EVENT_DATASET), Some("sshd"));
        assert_eq!(s(&e, field::EVENT_ACTION), Some("ssh_login"));
        assert_eq!(s(&e, field::EVENT_OUTCOME), Some("success"));
        assert_eq!(s(&e, field::USER_NAME), Some("vagrant"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("10.0.2.2"));
        assert_eq!(e.get_i64(field::SOURCE_PORT), Some(63673));
        assert_eq!(s(&e, field::SYSTEM_AUTH_SSH_METHOD), Some("publickey"));
        assert_eq!(
            s(&e, field::SYSTEM_AUTH_SSH_SIGNATURE),
            Some("RSA 39:33:99:e9")
        );
        assert_eq!(
            e.get(field::EVENT_CATEGORY),
            Some(Value::list(vec![Value::from("authentication")]).as_ref())
        );
    }

    #[test]
    fn injected_user_names_do_not_move_the_source() {
        let e = event(
            "Nov 11 08:04:51 h sshd[2737]: Failed password for invalid user from 10.10.1.1 from 127.0.0.1 port 58946 ssh2",
        );
        assert_eq!(s(&e, field::USER_NAME), Some("from 10.10.1.1"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("127.0.0.1"));
        assert_eq!(s(&e, field::EVENT_REASON), Some("invalid user"));
        let e = event(
            "Nov 11 08:04:52 h sshd[2737]: Failed password for invalid user test from 10.10.1.2 port 55555 ssh2 from 127.0.0.1 port 58946 ssh2",
        );
        assert_eq!(s(&e, field::SOURCE_IP), Some("127.0.0.1"));
        assert_eq!(
            s(&e, field::USER_NAME),
            Some("test from 10.10.1.2 port 55555 ssh2")
        );
        let e = event(
            "Nov 11 08:04:52 h sshd[2737]: Failed password for invalid user test from 127.0.0.1 port 58946 ssh2: from 10.10.1.2 port 55555 ssh2",
        );
        assert_eq!(s(&e, field::SOURCE_IP), Some("127.0.0.1"));
        assert_eq!(e.get_i64(field::SOURCE_PORT), Some(58946));
        assert!(e.get(field::SYSTEM_AUTH_SSH_SIGNATURE).is_none());
    }

    #[test]
    fn empty_and_odd_user_names() {
        let e = event("Jan 1 00:00:00 h sshd[1]: Invalid user  from 1.2.3.4 port 22");
        assert!(e.get(field::USER_NAME).is_none());
        assert_eq!(s(&e, field::SOURCE_IP), Some("1.2.3.4"));
        let e = event("Jan 1 00:00:00 h sshd[1]: Invalid user ftp from ::ffff:1.2.3.4");
        assert_eq!(s(&e, field::USER_NAME), Some("ftp"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("::ffff:1.2.3.4"));
    }

    #[test]
    fn disconnect_shapes() {
        let e = event(
            "Jan 1 00:00:00 h sshd[1]: Received disconnect from 1.2.3.4 port 42:11: Bye Bye [preauth]",
        );
        assert_eq!(s(&e, field::EVENT_ACTION), Some("ssh_disconnect"));
        assert_eq!(e.get_i64(field::SOURCE_PORT), Some(42));
        assert_eq!(s(&e, field::EVENT_REASON), Some("Bye Bye"));
        let e = event(
            "Jan 1 00:00:00 h sshd[1]: Received disconnect from 10.0.2.2: 11: disconnected by user",
        );
        assert_eq!(s(&e, field::SOURCE_IP), Some("10.0.2.2"));
        assert_eq!(s(&e, field::EVENT_REASON), Some("disconnected by user"));
        let e = event(
            "Jan 1 00:00:00 h sshd[1]: Connection closed by authenticating user root 1.2.3.4 port 5 [preauth]",
        );
        assert_eq!(s(&e, field::USER_NAME), Some("root"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("1.2.3.4"));
        let e = event(
            "Jan 1 00:00:00 h sshd[1]: Disconnecting invalid user admin 1.2.3.4 port 5: Too many authentication failures [preauth]",
        );
        assert_eq!(
            s(&e, field::EVENT_ACTION),
            Some("ssh_too_many_auth_failures")
        );
        assert_eq!(s(&e, field::USER_NAME), Some("admin"));
    }

    #[test]
    fn pam_lines_follow_the_service() {
        let e = event(
            "Jun  2 19:08:43 h sudo[654321]: pam_unix(sudo:auth): authentication failure; logname=bob uid=1117 euid=0 tty=/dev/pts/1 ruser=alice rhost= user=root",
        );
        assert_eq!(s(&e, field::EVENT_DATASET), Some("sudo"));
        assert_eq!(s(&e, field::EVENT_ACTION), Some("authentication_failure"));
        assert_eq!(s(&e, field::USER_NAME), Some("alice"));
        assert_eq!(s(&e, field::USER_TARGET_NAME), Some("root"));
        let e = event(
            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4  user=root",
        );
        assert_eq!(s(&e, field::EVENT_DATASET), Some("sshd"));
        assert_eq!(s(&e, field::PROCESS_NAME), Some("sshd"));
        assert_eq!(s(&e, field::USER_NAME), Some("root"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("218.188.2.4"));
        let e = event(
            "Feb 22 11:17:01 p CRON[3448]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
        );
        assert_eq!(s(&e, field::EVENT_DATASET), Some("pam"));
        assert_eq!(s(&e, field::EVENT_ACTION), Some("session_opened"));
        assert_eq!(s(&e, field::USER_NAME), Some("root"));
        let e = event(
            "Feb 22 11:17:01 p su[1]: pam_unix(su-l:session): session opened for user root(uid=0) by alice(uid=1000)",
        );
        assert_eq!(s(&e, field::USER_NAME), Some("alice"));
        assert_eq!(s(&e, field::USER_TARGET_NAME), Some("root"));
    }

    #[test]
    fn sudo_commands_and_refusals() {
        let e = event(
            "Feb 24 00:12:42 p sudo:      tsg : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/vagrant ; USER=root ; COMMAND=/bin/ls -l ; echo",
        );
        assert_eq!(s(&e, field::EVENT_ACTION), Some("sudo_command"));
        assert_eq!(s(&e, field::EVENT_OUTCOME), Some("failure"));
        assert_eq!(
            s(&e, field::EVENT_REASON),
            Some("3 incorrect password attempts")
        );
        assert_eq!(s(&e, field::USER_NAME), Some("tsg"));
        assert_eq!(s(&e, field::USER_TARGET_NAME), Some("root"));
        assert_eq!(s(&e, field::SYSTEM_AUTH_SUDO_TTY), Some("pts/1"));
        assert_eq!(
            s(&e, field::PROCESS_WORKING_DIRECTORY),
            Some("/home/vagrant")
        );
        assert_eq!(
            s(&e, field::PROCESS_COMMAND_LINE),
            Some("/bin/ls -l ; echo")
        );
    }

    #[test]
    fn su_shapes() {
        for (line, by, to, ok) in [
            (
                "su[1]: Successful su for tsg by root",
                "root",
                "tsg",
                "success",
            ),
            ("su[1]: + /dev/pts/1 root:tsg", "root", "tsg", "success"),
            ("su[1]: - /dev/pts/1 root:tsg", "root", "tsg", "failure"),
            (
                "su[1]: FAILED SU (to root) alice on pts/0",
                "alice",
                "root",
                "failure",
            ),
            (
                "su[1]: (to root) alice on pts/0",
                "alice",
                "root",
                "success",
            ),
            (
                "su[1]: BAD SU ger to fwmaster on /dev/ttyp0",
                "ger",
                "fwmaster",
                "failure",
            ),
            (
                "su[1]: failed: ttyq4 changing from ldap to root",
                "ldap",
                "root",
                "failure",
            ),
            ("su: dcid to root on /dev/ttyp1", "dcid", "root", "success"),
        ] {
            let e = event(&format!("Apr 27 15:22:23 niban {line}"));
            assert_eq!(s(&e, field::EVENT_ACTION), Some("switch_user"), "{line}");
            assert_eq!(s(&e, field::USER_NAME), Some(by), "{line}");
            assert_eq!(s(&e, field::USER_TARGET_NAME), Some(to), "{line}");
            assert_eq!(s(&e, field::EVENT_OUTCOME), Some(ok), "{line}");
        }
    }

    #[test]
    fn shadow_tools() {
        let e = event(
            "Feb 24 00:12:02 p useradd[4484]: new user: name=tsg, UID=1001, GID=1003, home=/home/tsg, shell=/bin/bash, from=/dev/pts/0",
        );
        assert_eq!(s(&e, field::EVENT_DATASET), Some("useradd"));
        assert_eq!(s(&e, field::EVENT_ACTION), Some("user_created"));
        assert_eq!(s(&e, field::USER_TARGET_NAME), Some("tsg"));
        assert_eq!(s(&e, field::USER_TARGET_ID), Some("1001"));
        assert_eq!(s(&e, field::GROUP_ID), Some("1003"));
        assert_eq!(s(&e, field::SYSTEM_AUTH_USERADD_SHELL), Some("/bin/bash"));
        for (line, action, user, group) in [
            (
                "usermod[1]: add 'alice' to group 'sudo'",
                "user_added_to_group",
                Some("alice"),
                Some("sudo"),
            ),
            (
                "usermod[1]: add 'alice' to shadow group 'sudo'",
                "group_file_updated",
                Some("alice"),
                Some("sudo"),
            ),
            (
                "userdel[1]: delete 'alice' from group 'sudo'",
                "user_removed_from_group",
                Some("alice"),
                Some("sudo"),
            ),
            (
                "gpasswd[1]: user alice added by root to group wheel",
                "user_added_to_group",
                Some("alice"),
                Some("wheel"),
            ),
            (
                "userdel[1]: delete user `osaudit'",
                "user_deleted",
                Some("osaudit"),
                None,
            ),
            (
                "userdel[1]: removed group 'alice' owned by 'alice'",
                "group_deleted",
                None,
                Some("alice"),
            ),
            (
                "groupdel[1]: group 'devs' removed",
                "group_deleted",
                None,
                Some("devs"),
            ),
            (
                "groupdel[1]: group 'devs' removed from /etc/gshadow",
                "group_file_updated",
                None,
                Some("devs"),
            ),
            (
                "groupadd[1]: new group: name=port1, gid=12004",
                "group_created",
                None,
                Some("port1"),
            ),
            (
                "passwd[1]: password for 'alice' changed by 'root'",
                "password_changed",
                Some("alice"),
                None,
            ),
            (
                "usermod[1]: change user 'alice' password",
                "password_changed",
                Some("alice"),
                None,
            ),
            (
                "usermod[1]: change user 'alice' shell from '/bin/sh' to '/bin/bash'",
                "user_modified",
                Some("alice"),
                None,
            ),
            (
                "chage[1]: changed password expiry for mysql",
                "user_modified",
                Some("mysql"),
                None,
            ),
            (
                "chfn[1]: changed user 'tsg' information",
                "user_modified",
                Some("tsg"),
                None,
            ),
        ] {
            let e = event(&format!("May 28 10:48:07 niban {line}"));
            assert_eq!(s(&e, field::EVENT_ACTION), Some(action), "{line}");
            assert_eq!(s(&e, field::USER_TARGET_NAME), user, "{line}");
            assert_eq!(s(&e, field::GROUP_NAME), group, "{line}");
        }
    }

    #[test]
    fn logind_sessions() {
        let e = event("Jan 1 00:00:00 h systemd-logind[1]: New session 3 of user root.");
        assert_eq!(s(&e, field::EVENT_ACTION), Some("session_created"));
        assert_eq!(s(&e, field::SYSTEM_AUTH_LOGIND_SESSION_ID), Some("3"));
        assert_eq!(s(&e, field::USER_NAME), Some("root"));
        let e = event("Jan 1 00:00:00 h systemd-logind[1]: Removed session c1.");
        assert_eq!(s(&e, field::EVENT_ACTION), Some("session_removed"));
        assert_eq!(s(&e, field::SYSTEM_AUTH_LOGIND_SESSION_ID), Some("c1"));
    }

    #[test]
    fn broken_known_shapes_are_errors_and_unknown_lines_are_plain_events() {
        let received: Timestamp = "2025-07-01T03:00:00Z".parse().unwrap();
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let (e, p) = parse(
            b"Jan 1 00:00:00 h sshd[1]: Accepted password for",
            received,
            &policy,
            Format::Syslog,
        );
        assert_eq!(p.body, crate::BodyOutcome::Failed);
        assert!(e.has_tag(gac_event::tag::BODY_UNPARSED));
        let e = event("Jan 1 00:00:00 h sshd[1]: Server listening on 0.0.0.0 port 22.");
        assert_eq!(s(&e, field::EVENT_DATASET), Some("sshd"));
        assert!(e.get(field::EVENT_ACTION).is_none());
    }

    #[test]
    fn arbitrary_text_never_panics() {
        let ctx_received: Timestamp = "2025-07-01T03:00:00Z".parse().unwrap();
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let ctx = Context {
            received: ctx_received,
            policy: &policy,
            app: None,
        };
        let samples = [
            "",
            " ",
            "from ",
            "from",
            "Accepted",
            "Failed  for  from  port ",
            "Invalid user from",
            "Received disconnect from : ",
            "Disconnecting ",
            "Disconnecting: ",
            "User ",
            "Connection from  on ",
            "message repeated 2 times: [ ",
            "pam_(",
            "pam_x(): ",
            "PAM 2 more authentication failures",
            " : ",
            "a : COMMAND=",
            "+ ",
            "- x",
            "(to ",
            "new user: ,,,==",
            "add '",
            "delete `",
            "group '",
            "user x added by ",
            "New session  of user ",
            "Session ",
            "é : é",
            "Address é maps to é, but this does not map back",
        ];
        for text in samples {
            for f in [
                parse_sshd,
                parse_sudo,
                parse_su,
                parse_shadow,
                parse_logind,
                parse_pam,
            ] {
                let mut e = Event::new(ctx_received, ctx_received, "");
                let _ = f(text, &mut e, &ctx);
                // And every prefix of it, to hit each early end.
                for end in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
                    let _ = f(&text[..end], &mut e, &ctx);
                }
            }
        }
    }
}
