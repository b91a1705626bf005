//! Correlation rules end to end: the specification's own examples loaded as multi-document
//! YAML, linked, and fed events through `RuleSet::evaluate` and `RuleSet::correlate`.

// Helpers outside #[test] functions unwrap too: a panic here is the failure report.
#![allow(clippy::unwrap_used)]

use gac_detect::{CorrelationLimits, CorrelationState, LoadErrorKind, Mappings, RuleSet};
use gac_event::{Event, Severity, Timestamp, field};

const MAPPING: &str = "
version: 1
logsources:
  - logsource: { product: windows, service: security }
    when: { event.dataset: windows.security }
    fields:
      EventID: event.code
      User: user.name
  - logsource: { category: webserver }
    when: { event.dataset: nginx.access }
  - logsource: { category: firewall }
    when: { event.dataset: iptables }
";

/// The specification's example, verbatim: failed logins followed by a success.
const BRUTE_FORCE: &str = "
title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
status: experimental
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
falsepositives:
    - Unlikely
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
";

fn set_with(text: &str) -> RuleSet {
    let mut set = RuleSet::new(Mappings::from_yaml(MAPPING).unwrap());
    for r in set.load("corr.yml", text) {
        r.unwrap();
    }
    assert!(set.link().is_empty());
    set
}

fn login(secs: i64, code: i64, user: &str) -> Event {
    let t = Timestamp::from_secs(1_700_000_000 + secs);
    let mut e = Event::new(t, t, "logon");
    e.set(field::EVENT_DATASET, "windows.security");
    e.set("event.code", code);
    e.set(field::USER_NAME, user);
    e
}

/// Titles of the correlations that fire on each event, in order.
fn run(set: &RuleSet, state: &mut CorrelationState, events: &[Event]) -> Vec<Vec<String>> {
    events
        .iter()
        .map(|e| {
            let matches = set.evaluate(e);
            set.correlate(state, e, e.timestamp.nanos(), &matches)
                .iter()
                .map(|m| m.correlation.meta.title.clone())
                .collect()
        })
        .collect()
}

#[test]
fn brute_force_then_success_fires_once_per_user() {
    let set = set_with(BRUTE_FORCE);
    assert_eq!(set.len(), 2);
    assert_eq!(set.correlations().len(), 2);
    // Rules that only feed a correlation do not alert on their own.
    assert!(set.rules().iter().all(|r| !r.standalone));
    let inner = set
        .correlations()
        .iter()
        .find(|c| c.meta.name.as_deref() == Some("multiple_failed_login"))
        .unwrap();
    assert!(!inner.standalone);

    let mut events: Vec<Event> = (0..10).map(|i| login(i * 10, 4625, "bob")).collect();
    events.push(login(120, 4625, "alice"));
    events.push(login(130, 4624, "alice")); // one failure only: nothing
    events.push(login(140, 4624, "bob"));
    events.push(login(150, 4624, "bob")); // already reported
    let mut state = CorrelationState::default();
    let fired = run(&set, &mut state, &events);
    assert_eq!(fired[9], ["Multiple failed logons"]);
    assert!(fired[11].is_empty());
    assert_eq!(
        fired[12],
        ["Correlation - Multiple Failed Logins Followed by Successful Login"]
    );
    assert!(fired[13].is_empty());
    assert_eq!(fired.iter().flatten().count(), 2);

    let e = &events[12];
    let matches = set.evaluate(e);
    let mut state2 = CorrelationState::default();
    run(&set, &mut state2, &events[..12]);
    let m = set.correlate(&mut state2, e, e.timestamp.nanos(), &matches);
    assert_eq!(m[0].group, [("User".to_owned(), "bob".to_owned())]);
    assert_eq!(m[0].severity(), Severity::High);
}

#[test]
fn success_too_late_or_too_early_does_not_fire() {
    let set = set_with(BRUTE_FORCE);
    let mut events: Vec<Event> = (0..10).map(|i| login(i, 4625, "bob")).collect();
    events.push(login(9 + 601, 4624, "bob"));
    let mut state = CorrelationState::default();
    assert_eq!(run(&set, &mut state, &events).iter().flatten().count(), 1);

    let mut events = vec![login(0, 4624, "bob")];
    events.extend((1..11).map(|i| login(i, 4625, "bob")));
    let mut state = CorrelationState::new(CorrelationLimits::default());
    let fired = run(&set, &mut state, &events);
    assert_eq!(
        fired.iter().flatten().count(),
        1,
        "only the event_count part"
    );
}

/// The specification's alias example: the same address as destination of a web error and
/// as source of a new connection.
const ALIASES: &str = "
title: Error then connection back
id: 11111111-0000-0000-0000-000000000001
correlation:
    type: temporal
    rules:
        - internal_error
        - new_network_connection
    group-by:
        - internal_ip
        - remote_ip
    timespan: 10s
    aliases:
        internal_ip:
            internal_error: destination.ip
            new_network_connection: source.ip
        remote_ip:
            internal_error: source.ip
            new_network_connection: destination.ip
level: high
---
title: Internal error
name: internal_error
logsource: { category: webserver }
detection:
    selection:
        http.response.status_code: 500
    condition: selection
---
title: New connection
name: new_network_connection
logsource: { category: firewall }
detection:
    selection:
        event.outcome: success
    condition: selection
";

fn web_error(secs: i64, src: &str, dst: &str) -> Event {
    let t = Timestamp::from_secs(secs);
    let mut e = Event::new(t, t, "GET / 500");
    e.set(field::EVENT_DATASET, "nginx.access");
    e.set(field::HTTP_RESPONSE_STATUS_CODE, 500_i64);
    e.set(field::SOURCE_IP, src);
    e.set(field::DESTINATION_IP, dst);
    e
}

fn connection(secs: i64, src: &str, dst: &str) -> Event {
    let t = Timestamp::from_secs(secs);
    let mut e = Event::new(t, t, "ACCEPT");
    e.set(field::EVENT_DATASET, "iptables");
    e.set(field::EVENT_OUTCOME, "success");
    e.set(field::SOURCE_IP, src);
    e.set(field::DESTINATION_IP, dst);
    e
}

#[test]
fn aliases_join_different_fields() {
    let set = set_with(ALIASES);
    let mut state = CorrelationState::default();
    let fired = run(
        &set,
        &mut state,
        &[
            web_error(0, "203.0.113.9", "10.0.0.5"),
            connection(3, "10.0.0.6", "203.0.113.9"), // another internal host
            connection(4, "10.0.0.5", "203.0.113.9"),
        ],
    );
    assert_eq!(fired.iter().flatten().count(), 1);
    assert_eq!(fired[2], ["Error then connection back"]);
}

#[test]
fn value_count_groups_by_mapped_fields() {
    let text = "
title: Password spraying
id: 22222222-0000-0000-0000-000000000001
correlation:
    type: value_count
    rules: [failed]
    group-by: [IpAddress]
    timespan: 5m
    condition: { field: User, gte: 3 }
generate: true
---
title: Failed logon
name: failed
logsource: { product: windows, service: security }
detection:
    selection: { EventID: 4625 }
    condition: selection
";
    let set = set_with(text);
    assert!(
        set.rules()[0].standalone,
        "generate: true keeps the rule's own alerts"
    );
    let ev = |secs, user: &str, ip: &str| {
        let mut e = login(secs, 4625, user);
        e.set("IpAddress", ip);
        e
    };
    let mut state = CorrelationState::default();
    let fired = run(
        &set,
        &mut state,
        &[
            ev(0, "a", "1.1.1.1"),
            ev(1, "a", "1.1.1.1"),
            ev(2, "b", "1.1.1.1"),
            ev(3, "c", "2.2.2.2"),
            ev(4, "d", "1.1.1.1"),
        ],
    );
    assert_eq!(fired.iter().flatten().count(), 1);
    assert_eq!(fired[4].len(), 1);
    // An event without the group-by field forms no group, and is counted.
    let mut e = login(5, 4625, "x");
    e.fields.remove("IpAddress");
    run(&set, &mut state, &[e]);
    assert_eq!(state.missing_group_fields, 1);
}

#[test]
fn link_reports_unknown_rules_and_cycles() {
    let mut set = RuleSet::new(Mappings::from_yaml(MAPPING).unwrap());
    let text = "
title: Dangling
name: dangling
correlation: { type: temporal, rules: [nowhere], group-by: [User], timespan: 1m }
---
title: A
name: a
correlation: { type: temporal, rules: [b], timespan: 1m }
---
title: B
name: b
correlation: { type: temporal, rules: [a], timespan: 1m }
---
title: Bad
correlation: { type: event_count, rules: [x], timespan: 1m, condition: { lte: 3 } }
---
title: Chained
correlation: { type: temporal, rules: [dangling, a], timespan: 1m }
";
    let loaded = set.load("bad.yml", text);
    assert!(loaded[..3].iter().all(Result::is_ok) && loaded[4].is_ok());
    let bad = loaded[3].as_ref().unwrap_err();
    assert!(matches!(bad.kind, LoadErrorKind::Correlation(_)));
    assert!(bad.to_string().contains("no lower bound"), "{bad}");
    let errors = set.link();
    let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 4, "{texts:?}");
    assert!(texts[0].contains("(Dangling): correlation refers to unknown rule \"nowhere\""));
    assert!(
        texts[1].contains("(A): correlation \"A\" refers to itself"),
        "{texts:?}"
    );
    assert!(
        texts[2].contains("(B): correlation \"B\" refers to itself"),
        "{texts:?}"
    );
    assert!(
        texts[3].contains("(Chained): correlation refers to \"Dangling\", which did not load"),
        "{texts:?}"
    );
    let e = login(0, 4625, "bob");
    let mut state = CorrelationState::default();
    assert!(
        set.correlate(&mut state, &e, 0, &set.evaluate(&e))
            .is_empty()
    );
}
