//! `gac-detect`: the Sigma detection engine. Pure: no I/O, no tokio.
//!
//! Rules arrive as YAML text and are compiled once; events are then evaluated against the
//! compiled form through the [`FieldSource`] trait (implemented for [`gac_event::Event`]).
//!
//! The flow, by module:
//! - [`mapping`]: field mappings as data: which events a Sigma log source means
//!   (`when`, a Sigma search over event fields) and Sigma field name -> event field name.
//! - `rule`: YAML documents (and `action: global` collections) -> [`RuleMeta`] + the raw
//!   `detection` section.
//! - `detection`: search identifiers -> compiled search trees; `condition` -> `Cond`.
//! - `modifier`: the `|modifier` chain and the value transformations it asks for.
//! - `matcher`: one `field|modifiers: values` item -> a compiled test.
//! - `pattern`: wildcards and escapes -> exact / prefix / suffix / substring / regex.
//! - `correlation`: Sigma correlation rules and their bounded per-group state.
//! - `prefilter`: per log source, one substring scan per field that rules out the rules
//!   an event cannot match, so only the others are evaluated.
//! - [`ruleset`]: [`RuleSet::load`] (compile or refuse, with the reason),
//!   [`RuleSet::link`] (resolve correlation references), [`RuleSet::evaluate`] (event ->
//!   [`RuleMatch`]es) and [`RuleSet::correlate`] (matches -> [`CorrelationMatch`]es).
//!
//! ```
//! use gac_detect::{Mappings, RuleSet};
//! use gac_event::{Event, Timestamp};
//!
//! let mappings = Mappings::from_yaml(
//!     "version: 1\nlogsources:\n  - logsource: {product: linux, service: sshd}\n    when: {event.dataset: sshd}\n",
//! ).expect("valid mapping");
//! let mut rules = RuleSet::new(mappings);
//! let loaded = rules.load("example.yml", "
//! title: Root login attempt
//! logsource: {product: linux, service: sshd}
//! detection:
//!     keywords: ['Failed password for root']
//!     condition: keywords
//! level: high
//! ");
//! assert!(loaded[0].is_ok());
//!
//! let mut event = Event::new(Timestamp::from_secs(0), Timestamp::from_secs(0),
//!     "sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2");
//! event.set("event.dataset", "sshd");
//! let matches = rules.evaluate(&event);
//! assert_eq!(matches[0].title(), "Root login attempt");
//! ```

mod condition;
mod correlation;
mod detection;
pub mod mapping;
mod matcher;
mod modifier;
mod pattern;
mod prefilter;
mod rule;
pub mod ruleset;
mod source;

pub use condition::ConditionError;
pub use correlation::{
    Correlation, CorrelationError, CorrelationLimits, CorrelationState, CorrelationType, Threshold,
};
pub use detection::{DetectionError, MatchedField};
pub use mapping::{LogSource, MappingError, Mappings};
pub use matcher::MatcherError;
pub use modifier::{ModifierError, Placeholders};
pub use pattern::PatternError;
pub use rule::{RuleError, RuleMeta};
pub use ruleset::{
    Compiled, CorrelationMatch, LoadError, LoadErrorKind, Rule, RuleMatch, RuleSet, compile,
};
pub use source::{FieldSource, FieldValue};
