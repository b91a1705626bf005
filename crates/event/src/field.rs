//! ECS field names: the one place each name is spelt (DESIGN §3). Everything else in Gác
//! refers to these constants.

// Always present.
pub const TIMESTAMP: &str = "@timestamp";
pub const EVENT_INGESTED: &str = "event.ingested";
pub const MESSAGE: &str = "message";
pub const TAGS: &str = "tags";
pub const HOST_NAME: &str = "host.name";
pub const AGENT_ID: &str = "agent.id";
pub const LOG_SOURCE: &str = "log.source";
pub const EVENT_SEQUENCE: &str = "event.sequence";
pub const EVENT_DATASET: &str = "event.dataset";
/// Normalised severity code, see [`crate::Severity`].
pub const EVENT_SEVERITY: &str = "event.severity";
/// Unique id of the event, assigned by the server at intake (WAL position based).
pub const EVENT_ID: &str = "event.id";

// When known.
pub const EVENT_KIND: &str = "event.kind";
pub const EVENT_CATEGORY: &str = "event.category";
pub const EVENT_TYPE: &str = "event.type";
pub const EVENT_ACTION: &str = "event.action";
pub const EVENT_OUTCOME: &str = "event.outcome";
pub const SOURCE_IP: &str = "source.ip";
pub const SOURCE_PORT: &str = "source.port";
pub const DESTINATION_IP: &str = "destination.ip";
pub const DESTINATION_PORT: &str = "destination.port";
pub const USER_NAME: &str = "user.name";
pub const USER_TARGET_NAME: &str = "user.target.name";
pub const PROCESS_NAME: &str = "process.name";
pub const PROCESS_PID: &str = "process.pid";
pub const PROCESS_COMMAND_LINE: &str = "process.command_line";
pub const PROCESS_EXECUTABLE: &str = "process.executable";
pub const PROCESS_PARENT_NAME: &str = "process.parent.name";
pub const URL_ORIGINAL: &str = "url.original";
pub const URL_PATH: &str = "url.path";
pub const URL_QUERY: &str = "url.query";
pub const HTTP_REQUEST_METHOD: &str = "http.request.method";
pub const HTTP_REQUEST_REFERRER: &str = "http.request.referrer";
pub const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
pub const USER_AGENT_ORIGINAL: &str = "user_agent.original";
pub const NETWORK_TRANSPORT: &str = "network.transport";
pub const OBSERVER_VENDOR: &str = "observer.vendor";
pub const OBSERVER_PRODUCT: &str = "observer.product";

// Syslog header (ECS `log.syslog.*`).
pub const LOG_SYSLOG_FACILITY_CODE: &str = "log.syslog.facility.code";
pub const LOG_SYSLOG_FACILITY_NAME: &str = "log.syslog.facility.name";
pub const LOG_SYSLOG_SEVERITY_CODE: &str = "log.syslog.severity.code";
pub const LOG_SYSLOG_SEVERITY_NAME: &str = "log.syslog.severity.name";
pub const LOG_SYSLOG_HOSTNAME: &str = "log.syslog.hostname";
pub const LOG_SYSLOG_APPNAME: &str = "log.syslog.appname";
pub const LOG_SYSLOG_PROCID: &str = "log.syslog.procid";
pub const LOG_SYSLOG_MSGID: &str = "log.syslog.msgid";
pub const LOG_SYSLOG_VERSION: &str = "log.syslog.version";
/// Prefix of RFC 5424 structured data: `log.syslog.structured_data.<sd-id>.<param>`.
pub const LOG_SYSLOG_STRUCTURED_DATA: &str = "log.syslog.structured_data";
/// The message part after the syslog header.
pub const LOG_SYSLOG_MESSAGE: &str = "log.syslog.message";
/// Which syslog dialect the header was read as: `rfc3164` or `rfc5424`.
pub const LOG_SYSLOG_FORMAT: &str = "log.syslog.format";

// Time provenance.
/// The zone the record's local time was read in (IANA name or offset).
pub const EVENT_TIMEZONE: &str = "event.timezone";

// Enrichment.
pub const SOURCE_GEO_COUNTRY_ISO_CODE: &str = "source.geo.country_iso_code";
pub const SOURCE_GEO_CITY_NAME: &str = "source.geo.city_name";
pub const SOURCE_AS_NUMBER: &str = "source.as.number";
pub const SOURCE_AS_ORGANIZATION_NAME: &str = "source.as.organization.name";
pub const DESTINATION_GEO_COUNTRY_ISO_CODE: &str = "destination.geo.country_iso_code";
pub const DESTINATION_GEO_CITY_NAME: &str = "destination.geo.city_name";
pub const DESTINATION_AS_NUMBER: &str = "destination.as.number";
pub const DESTINATION_AS_ORGANIZATION_NAME: &str = "destination.as.organization.name";
pub const SOURCE_GEO_COUNTRY_NAME: &str = "source.geo.country_name";
/// Latitude of `source.geo.location` (ECS geo_point, flattened), degrees.
pub const SOURCE_GEO_LOCATION_LAT: &str = "source.geo.location.lat";
/// Longitude of `source.geo.location` (ECS geo_point, flattened), degrees.
pub const SOURCE_GEO_LOCATION_LON: &str = "source.geo.location.lon";
pub const DESTINATION_GEO_COUNTRY_NAME: &str = "destination.geo.country_name";
pub const DESTINATION_GEO_LOCATION_LAT: &str = "destination.geo.location.lat";
pub const DESTINATION_GEO_LOCATION_LON: &str = "destination.geo.location.lon";
/// Address of the host the event happened on, when the record names one.
pub const HOST_IP: &str = "host.ip";
pub const LABELS_SYSTEM: &str = "labels.system";
pub const LABELS_SECURITY_LEVEL: &str = "labels.security_level";
pub const LABELS_UNIT: &str = "labels.unit";

// Origin of records received over the network.
/// Address of the peer that sent the record (syslog sender or agent).
pub const OBSERVER_INGRESS_IP: &str = "log.origin.ip";
/// Name of the server input that received the record.
pub const INPUT_NAME: &str = "input.name";
/// Transport of the input: `udp`, `tcp`, `agent`.
pub const INPUT_TYPE: &str = "input.type";

// Errors.
/// Why a parser could not read the record (ECS `error.message`).
pub const ERROR_MESSAGE: &str = "error.message";

// Alerts (DESIGN §5 Detect): the rule and what matched.
pub const RULE_ID: &str = "rule.id";
pub const RULE_NAME: &str = "rule.name";
pub const RULE_DESCRIPTION: &str = "rule.description";
pub const RULE_REFERENCE: &str = "rule.reference";
/// Which rule language: `sigma`.
pub const RULE_RULESET: &str = "rule.ruleset";
/// The alert's level as a word (`high`), beside the numeric `event.severity`.
pub const LOG_LEVEL: &str = "log.level";
/// `rule`, or the correlation type (`event_count`, `value_count`, `temporal`, ...).
pub const ALERT_TYPE: &str = "alert.type";
/// Ids of the events the alert is about.
pub const ALERT_EVENT_IDS: &str = "alert.event_ids";
/// Search identifiers of the rule that were true.
pub const ALERT_IDENTIFIERS: &str = "alert.identifiers";
/// `field=value` of each field that matched.
pub const ALERT_MATCHED_FIELDS: &str = "alert.matched_fields";
/// Prefix of a correlation's group-by values: `alert.group.<field>`.
pub const ALERT_GROUP: &str = "alert.group";
/// The count, distinct count, sum or average that met a correlation's condition.
pub const ALERT_VALUE: &str = "alert.value";
/// Time of the oldest event in a correlation's window.
pub const ALERT_FIRST: &str = "alert.first";

// Network, web and NSM records (issue 3: web.rs, network.rs, nsm.rs in gac-parse).
/// The source's own id for the kind of event (Cisco message id, FortiGate logid).
pub const EVENT_CODE: &str = "event.code";
/// How long the event lasted, in nanoseconds (ECS).
pub const EVENT_DURATION: &str = "event.duration";
pub const EVENT_START: &str = "event.start";
pub const EVENT_END: &str = "event.end";
/// `1.1`, without the `HTTP/`.
pub const HTTP_VERSION: &str = "http.version";
pub const HTTP_REQUEST_ID: &str = "http.request.id";
pub const HTTP_REQUEST_BYTES: &str = "http.request.bytes";
pub const HTTP_REQUEST_BODY_BYTES: &str = "http.request.body.bytes";
pub const HTTP_RESPONSE_BYTES: &str = "http.response.bytes";
pub const HTTP_RESPONSE_BODY_BYTES: &str = "http.response.body.bytes";
pub const HTTP_RESPONSE_MIME_TYPE: &str = "http.response.mime_type";
pub const URL_DOMAIN: &str = "url.domain";
pub const URL_SCHEME: &str = "url.scheme";
pub const URL_PORT: &str = "url.port";
pub const SOURCE_DOMAIN: &str = "source.domain";
pub const SOURCE_MAC: &str = "source.mac";
pub const SOURCE_BYTES: &str = "source.bytes";
pub const SOURCE_PACKETS: &str = "source.packets";
pub const SOURCE_NAT_IP: &str = "source.nat.ip";
pub const SOURCE_NAT_PORT: &str = "source.nat.port";
pub const DESTINATION_DOMAIN: &str = "destination.domain";
pub const DESTINATION_MAC: &str = "destination.mac";
pub const DESTINATION_BYTES: &str = "destination.bytes";
pub const DESTINATION_PACKETS: &str = "destination.packets";
pub const DESTINATION_NAT_IP: &str = "destination.nat.ip";
pub const DESTINATION_NAT_PORT: &str = "destination.nat.port";
/// `ingress`/`egress` (seen from an interface) or `inbound`/`outbound` (from a network).
pub const NETWORK_DIRECTION: &str = "network.direction";
/// `ipv4` or `ipv6`.
pub const NETWORK_TYPE: &str = "network.type";
pub const NETWORK_IANA_NUMBER: &str = "network.iana_number";
/// Application protocol, lowercase (`http`, `dns`).
pub const NETWORK_PROTOCOL: &str = "network.protocol";
pub const NETWORK_BYTES: &str = "network.bytes";
pub const NETWORK_PACKETS: &str = "network.packets";
pub const NETWORK_COMMUNITY_ID: &str = "network.community_id";
pub const OBSERVER_NAME: &str = "observer.name";
pub const OBSERVER_HOSTNAME: &str = "observer.hostname";
pub const OBSERVER_SERIAL_NUMBER: &str = "observer.serial_number";
/// `firewall`, `ids`, ...
pub const OBSERVER_TYPE: &str = "observer.type";
pub const OBSERVER_INGRESS_INTERFACE_NAME: &str = "observer.ingress.interface.name";
pub const OBSERVER_EGRESS_INTERFACE_NAME: &str = "observer.egress.interface.name";
pub const RULE_CATEGORY: &str = "rule.category";
pub const RULE_UUID: &str = "rule.uuid";
pub const PROCESS_THREAD_ID: &str = "process.thread.id";
pub const ERROR_CODE: &str = "error.code";
pub const USER_DOMAIN: &str = "user.domain";
pub const GROUP_NAME: &str = "group.name";
pub const DNS_ID: &str = "dns.id";
/// `query` or `answer`.
pub const DNS_TYPE: &str = "dns.type";
pub const DNS_QUESTION_NAME: &str = "dns.question.name";
pub const DNS_QUESTION_TYPE: &str = "dns.question.type";
pub const DNS_QUESTION_CLASS: &str = "dns.question.class";
pub const DNS_RESPONSE_CODE: &str = "dns.response_code";
pub const DNS_RESOLVED_IP: &str = "dns.resolved_ip";
/// `1.2`; the protocol name is in `tls.version_protocol`.
pub const TLS_VERSION: &str = "tls.version";
pub const TLS_VERSION_PROTOCOL: &str = "tls.version_protocol";
pub const TLS_CIPHER: &str = "tls.cipher";
pub const TLS_CURVE: &str = "tls.curve";
pub const TLS_RESUMED: &str = "tls.resumed";
pub const TLS_ESTABLISHED: &str = "tls.established";
pub const TLS_CLIENT_SERVER_NAME: &str = "tls.client.server_name";
pub const TLS_CLIENT_JA3: &str = "tls.client.ja3";
pub const TLS_SERVER_JA3S: &str = "tls.server.ja3s";
pub const TLS_SERVER_SUBJECT: &str = "tls.server.subject";
pub const TLS_SERVER_ISSUER: &str = "tls.server.issuer";
pub const TLS_SERVER_NOT_BEFORE: &str = "tls.server.not_before";
pub const TLS_SERVER_NOT_AFTER: &str = "tls.server.not_after";
pub const TLS_SERVER_HASH_SHA1: &str = "tls.server.hash.sha1";
pub const FILE_NAME: &str = "file.name";
pub const FILE_PATH: &str = "file.path";
pub const FILE_SIZE: &str = "file.size";
pub const FILE_MIME_TYPE: &str = "file.mime_type";
pub const FILE_HASH_MD5: &str = "file.hash.md5";
pub const FILE_HASH_SHA1: &str = "file.hash.sha1";
pub const FILE_HASH_SHA256: &str = "file.hash.sha256";

// Windows event logs (gac-parse `formats/windows.rs`): the record's own System fields under
// Winlogbeat's `winlog.*` names, and its EventData/UserData items under their Windows names.
/// The event log channel: `Security`, `Microsoft-Windows-Sysmon/Operational`.
pub const WINLOG_CHANNEL: &str = "winlog.channel";
/// The event id within its provider (integer): `4624`.
pub const WINLOG_EVENT_ID: &str = "winlog.event_id";
pub const WINLOG_PROVIDER_NAME: &str = "winlog.provider_name";
/// The `Computer` the event was logged on.
pub const WINLOG_COMPUTER_NAME: &str = "winlog.computer_name";
/// The record's number in its log (`EventRecordID`).
pub const WINLOG_RECORD_ID: &str = "winlog.record_id";
/// Prefix of EventData/UserData items, spelt as Windows spells them:
/// `winlog.event_data.TargetUserName`.
pub const WINLOG_EVENT_DATA: &str = "winlog.event_data";
pub const PROCESS_PARENT_EXECUTABLE: &str = "process.parent.executable";
pub const PROCESS_PARENT_COMMAND_LINE: &str = "process.parent.command_line";
pub const PROCESS_PARENT_PID: &str = "process.parent.pid";
/// Full registry key path (Sysmon `TargetObject`).
pub const REGISTRY_PATH: &str = "registry.path";
pub const POWERSHELL_FILE_SCRIPT_BLOCK_TEXT: &str = "powershell.file.script_block_text";

// Host records: Linux authentication, auditd, CEF/LEEF, JSON and key=value lines
// (issue 3: linux_auth.rs, auditd.rs, generic.rs in gac-parse).
/// Why the event happened or failed, in the source's words (`user NOT in sudoers`).
pub const EVENT_REASON: &str = "event.reason";
/// The arguments of a process, program first (a list).
pub const PROCESS_ARGS: &str = "process.args";
/// The process title (auditd's `proctitle`, NULs between arguments made spaces).
pub const PROCESS_TITLE: &str = "process.title";
pub const PROCESS_WORKING_DIRECTORY: &str = "process.working_directory";
pub const USER_ID: &str = "user.id";
pub const USER_TARGET_ID: &str = "user.target.id";
pub const USER_EFFECTIVE_ID: &str = "user.effective.id";
pub const USER_EFFECTIVE_NAME: &str = "user.effective.name";
pub const GROUP_ID: &str = "group.id";
pub const OBSERVER_VERSION: &str = "observer.version";
// Non-ECS details of Linux authentication records, named as Elastic's `system`
// integration names them so that its users and mappings find them.
/// How an SSH client authenticated: `password`, `publickey`, `keyboard-interactive/pam`.
pub const SYSTEM_AUTH_SSH_METHOD: &str = "system.auth.ssh.method";
/// The key type and fingerprint of an SSH public key login (`RSA SHA256:...`).
pub const SYSTEM_AUTH_SSH_SIGNATURE: &str = "system.auth.ssh.signature";
/// The SSH subsystem a client asked for (`sftp`).
pub const SYSTEM_AUTH_SSH_SUBSYSTEM: &str = "system.auth.ssh.subsystem";
/// The terminal sudo was run from (`pts/0`).
pub const SYSTEM_AUTH_SUDO_TTY: &str = "system.auth.sudo.tty";
pub const SYSTEM_AUTH_USERADD_HOME: &str = "system.auth.useradd.home";
pub const SYSTEM_AUTH_USERADD_SHELL: &str = "system.auth.useradd.shell";
/// systemd-logind's session number.
pub const SYSTEM_AUTH_LOGIND_SESSION_ID: &str = "system.auth.logind.session_id";
// Linux audit records (auditbeat's names).
/// The record type as written (`SYSCALL`, `EXECVE`); a list once records are joined.
pub const AUDITD_MESSAGE_TYPE: &str = "auditd.message_type";
/// The audit event's serial number, the `456` of `msg=audit(1700000000.123:456)`.
pub const AUDITD_SEQUENCE: &str = "auditd.sequence";
/// The audit session id (`ses`).
pub const AUDITD_SESSION: &str = "auditd.session";
/// `success` or `fail`, from `res=` or `success=`.
pub const AUDITD_RESULT: &str = "auditd.result";
/// Prefix of every key=value of a record as written: `auditd.data.<key>`.
pub const AUDITD_DATA: &str = "auditd.data";
// CEF and LEEF headers and extensions.
pub const CEF_VERSION: &str = "cef.version";
/// The header's Name (what happened, in the vendor's words).
pub const CEF_NAME: &str = "cef.name";
/// The header's Severity as written (0-10 or a word); `event.severity` holds ours.
pub const CEF_SEVERITY: &str = "cef.severity";
/// Prefix of every extension as written: `cef.extensions.<key>`.
pub const CEF_EXTENSIONS: &str = "cef.extensions";
pub const LEEF_VERSION: &str = "leef.version";
/// Prefix of every event attribute as written: `leef.attributes.<key>`.
pub const LEEF_ATTRIBUTES: &str = "leef.attributes";
/// Prefix of every pair of a generic key=value record: `kv.<key>`.
pub const KV: &str = "kv";
/// Prefix for keys of a JSON record that would clash with the event's own
/// (`message`, `tags`, `@timestamp`, `event.ingested`): `json.<key>`.
pub const JSON: &str = "json";

// Agent loss notices.
/// First sequence number an agent lost in a source.
pub const GAC_LOSS_FROM_SEQ: &str = "gac.loss.from_seq";
/// Last sequence number an agent lost in a source.
pub const GAC_LOSS_TO_SEQ: &str = "gac.loss.to_seq";
