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
