//! `gac rules`: rule tooling that needs no server. `check` loads a rule pack and says, per
//! rule file, what loaded and exactly why the rest did not; `test` shows what records parse
//! to and which rules fire on them, or runs a pack's test files. It uses the parser
//! (`gac-parse`) and the engine (`gac-detect`) the server uses, so what passes here is what
//! the server does.
//!
//! A detections directory holds `rules/` (Sigma YAML, any depth), `mappings/` (field
//! mapping files, see `gac_detect::mapping`) and `tests/` (one [`TestFile`] per rule file,
//! named after the rule file's stem).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use gac_detect::{
    CorrelationLimits, CorrelationMatch, CorrelationState, FieldSource, LoadError, Mappings,
    RuleMatch, RuleSet,
};
use gac_event::{Event, Timestamp, Value, field};
use gac_parse::{Format, Parsed, TimePolicy};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use serde_norway::Value as Yaml;

use crate::settings::parse_duration_nanos;

/// The zone applied to records without one when none is given: the server's default.
const DEFAULT_ZONE: &str = "Asia/Ho_Chi_Minh";

/// How many failure reasons `check` lists in its summary; the long tail is one line.
const TOP_REASONS: usize = 15;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Load every rule and say, per rule file, whether it loaded and exactly why not.
    /// Exits non-zero when any rule fails to load.
    Check(CheckArgs),
    /// With --line, --event or --input: parse the records and show the fields and every
    /// rule that fires. Without: run the pack's test files (DIR/tests), exit non-zero
    /// when an expectation is not met.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A detections directory (with rules/ and mappings/) or a folder of rule files.
    #[arg(default_value = "detections")]
    dir: PathBuf,
    /// Mapping files or folders of them (default: DIR/mappings).
    #[arg(long)]
    mappings: Vec<PathBuf>,
    /// Print only the files with rules that did not load, then the summary.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The detections directory: rules/, mappings/ and tests/.
    #[arg(default_value = "detections")]
    dir: PathBuf,
    /// A raw record to try (repeatable). All records given form one sequence, in order:
    /// lines, then events, then the input file.
    #[arg(long)]
    line: Vec<String>,
    /// An event as JSON, by ECS field name, flat or nested (repeatable).
    #[arg(long)]
    event: Vec<String>,
    /// A file of records, one per line ('-' for standard input).
    #[arg(long)]
    input: Option<PathBuf>,
    /// The input file holds event JSON, one per line, rather than raw records.
    #[arg(long, requires = "input")]
    events: bool,
    /// How raw records are read, as an input's `format`: auto, syslog or a format name.
    #[arg(long, default_value = "auto")]
    format: String,
    /// Zone for records that carry none (IANA name).
    #[arg(long, default_value = DEFAULT_ZONE)]
    zone: String,
    /// Receive time (RFC 3339), which also decides the year of records without one.
    /// Default: now.
    #[arg(long)]
    received: Option<Timestamp>,
    /// Mapping files or folders of them (default: DIR/mappings).
    #[arg(long)]
    mappings: Vec<PathBuf>,
    /// Print one JSON line per record.
    #[arg(long)]
    json: bool,
}

/// Runs a `gac rules` subcommand; `Ok(false)` means it ran but found failures (the
/// caller exits non-zero).
pub fn run(cmd: RulesCommand, out: &mut impl Write) -> anyhow::Result<bool> {
    match cmd {
        RulesCommand::Check(args) => check(&args, out),
        RulesCommand::Test(args) => {
            if args.line.is_empty() && args.event.is_empty() && args.input.is_none() {
                run_tests(&args, out)
            } else {
                try_records(&args, out).map(|()| true)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Loading a pack.

/// The rule and mapping folders a command works on.
#[derive(Debug)]
struct Layout {
    rules: PathBuf,
    mappings: Vec<PathBuf>,
}

impl Layout {
    /// `dir` is a detections directory when it has `rules/`, else a folder of rules.
    fn new(dir: &Path, mappings: &[PathBuf]) -> Layout {
        let pack = dir.join("rules").is_dir();
        let rules = if pack {
            dir.join("rules")
        } else {
            dir.to_owned()
        };
        let mappings = if mappings.is_empty() {
            vec![dir.join("mappings")]
        } else {
            mappings.to_vec()
        };
        Layout { rules, mappings }
    }
}

/// Every `.yml`/`.yaml` file under a path (the path itself if it is a file), sorted.
fn yaml_files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    if path.is_file() {
        out.push(path.to_owned());
    } else {
        walk(path, &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn load_mappings(paths: &[PathBuf]) -> anyhow::Result<Mappings> {
    let mut m = Mappings::empty();
    let mut any = false;
    for p in paths {
        for file in yaml_files(p).with_context(|| format!("mappings {}", p.display()))? {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            m.add_yaml(&text)
                .with_context(|| format!("mapping file {}", file.display()))?;
            any = true;
        }
    }
    if !any {
        bail!("no mapping files found (looked in {paths:?}); give --mappings");
    }
    Ok(m)
}

/// What became of one rule document.
#[derive(Debug)]
struct DocReport {
    document: usize,
    title: Option<String>,
    /// The rule's product (or `category:`/`service:` when it names none), for the summary.
    product: String,
    outcome: Result<String, LoadError>,
}

#[derive(Debug)]
struct RuleFile {
    /// Path under the rules folder, as the rules' `origin`.
    origin: String,
    docs: Vec<DocReport>,
    /// The file could not be read at all.
    unreadable: Option<String>,
}

impl RuleFile {
    fn failed(&self) -> usize {
        self.docs.iter().filter(|d| d.outcome.is_err()).count()
            + usize::from(self.unreadable.is_some())
    }
}

#[derive(Debug)]
struct Pack {
    set: RuleSet,
    files: Vec<RuleFile>,
}

/// The log source product of each YAML document of a rule text, for grouping reports.
fn products(text: &str) -> Vec<String> {
    use serde::de::Deserialize as _;
    serde_norway::Deserializer::from_str(text)
        .map(|doc| {
            let Ok(v) = Yaml::deserialize(doc) else {
                return "(unreadable)".to_owned();
            };
            let ls = &v["logsource"];
            if let Some(p) = ls["product"].as_str() {
                p.to_owned()
            } else if let Some(c) = ls["category"].as_str() {
                format!("category:{c}")
            } else if let Some(s) = ls["service"].as_str() {
                format!("service:{s}")
            } else if v.get("correlation").is_some() {
                "(correlation)".to_owned()
            } else {
                "(none)".to_owned()
            }
        })
        .collect()
}

fn load_pack(layout: &Layout) -> anyhow::Result<Pack> {
    let mut set = RuleSet::new(load_mappings(&layout.mappings)?);
    let mut files = Vec::new();
    for path in
        yaml_files(&layout.rules).with_context(|| format!("rules {}", layout.rules.display()))?
    {
        let origin = path
            .strip_prefix(&layout.rules)
            .unwrap_or(&path)
            .display()
            .to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                files.push(RuleFile {
                    origin,
                    docs: Vec::new(),
                    unreadable: Some(e.to_string()),
                });
                continue;
            }
        };
        let products = products(&text);
        let docs = set
            .load(&origin, &text)
            .into_iter()
            .map(|outcome| {
                let (document, title) = match &outcome {
                    Ok(key) => {
                        let (doc, title) = find_loaded(&set, &origin, key);
                        (doc, title)
                    }
                    Err(e) => (e.document, e.title.clone()),
                };
                DocReport {
                    document,
                    title,
                    product: products.get(document).cloned().unwrap_or_default(),
                    outcome,
                }
            })
            .collect();
        files.push(RuleFile {
            origin,
            docs,
            unreadable: None,
        });
    }
    // Correlations whose parts are missing load but cannot link: they count as failures
    // of their own file.
    for e in set.link() {
        if let Some(doc) = files
            .iter_mut()
            .filter(|f| f.origin == e.origin)
            .flat_map(|f| f.docs.iter_mut())
            .find(|d| d.document == e.document)
        {
            doc.outcome = Err(e);
        }
    }
    Ok(Pack { set, files })
}

/// The document index and title of a rule or correlation just loaded under `key`.
fn find_loaded(set: &RuleSet, origin: &str, key: &str) -> (usize, Option<String>) {
    let rule = set
        .rules()
        .iter()
        .rev()
        .find(|r| r.origin == origin && r.key() == key)
        .map(|r| (r.document, Some(r.meta.title.clone())));
    let corr = || {
        set.correlations()
            .iter()
            .rev()
            .find(|c| c.origin == origin && c.key() == key)
            .map(|c| (c.document, Some(c.meta.title.clone())))
    };
    rule.or_else(corr).unwrap_or((0, None))
}

// ---------------------------------------------------------------------------------------
// `gac rules check`.

fn check(args: &CheckArgs, out: &mut impl Write) -> anyhow::Result<bool> {
    let layout = Layout::new(&args.dir, &args.mappings);
    let pack = load_pack(&layout)?;
    let (mut ok, mut failed) = (0usize, 0usize);
    // Per product: (loaded, not loaded); per reason: count and an example.
    let mut by_product: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut reasons: HashMap<String, (usize, String)> = HashMap::new();
    for f in &pack.files {
        if let Some(e) = &f.unreadable {
            writeln!(out, "FAIL  {}: cannot read: {e}", f.origin)?;
            failed += 1;
            continue;
        }
        let bad = f.failed();
        if bad == 0 && !args.quiet {
            let titles: Vec<&str> = f.docs.iter().filter_map(|d| d.title.as_deref()).collect();
            writeln!(out, "ok    {}: {}", f.origin, titles.join("; "))?;
        }
        for d in &f.docs {
            let entry = by_product.entry(d.product.clone()).or_default();
            match &d.outcome {
                Ok(_) => {
                    ok += 1;
                    entry.0 += 1;
                }
                Err(e) => {
                    failed += 1;
                    entry.1 += 1;
                    writeln!(out, "FAIL  {e}")?;
                    let r = reasons
                        .entry(e.kind.reason())
                        .or_insert_with(|| (0, f.origin.clone()));
                    r.0 += 1;
                }
            }
        }
        if bad > 0 {
            let loaded: Vec<&str> = f
                .docs
                .iter()
                .filter(|d| d.outcome.is_ok())
                .filter_map(|d| d.title.as_deref())
                .collect();
            if !loaded.is_empty() {
                writeln!(
                    out,
                    "      (loaded from the same file: {})",
                    loaded.join("; ")
                )?;
            }
        }
    }
    let total = ok + failed;
    writeln!(out)?;
    writeln!(
        out,
        "{} files, {total} rules: {ok} loaded ({:.1}%), {failed} not loaded",
        pack.files.len(),
        percent(ok, total)
    )?;
    if failed > 0 {
        writeln!(out, "by product (loaded / total):")?;
        for (product, (good, bad)) in &by_product {
            writeln!(
                out,
                "  {product:<28} {good:>5} / {:<5} {:>5.1}%",
                good + bad,
                percent(*good, good + bad)
            )?;
        }
        let mut reasons: Vec<_> = reasons.into_iter().collect();
        reasons.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
        writeln!(out, "reasons for the rules not loaded:")?;
        for (reason, (n, example)) in reasons.iter().take(TOP_REASONS) {
            writeln!(out, "  {n:>5}  {reason}  (e.g. {example})")?;
        }
        let rest: usize = reasons.iter().skip(TOP_REASONS).map(|r| r.1.0).sum();
        if rest > 0 {
            writeln!(
                out,
                "  {rest:>5}  other reasons ({})",
                reasons.len() - TOP_REASONS
            )?;
        }
    }
    Ok(failed == 0)
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

// ---------------------------------------------------------------------------------------
// Making events: raw records through gac-parse, or event JSON.

/// How raw records become events.
#[derive(Debug, Clone, Copy)]
struct Reader {
    format: Format,
    policy: TimePolicy,
    received: Timestamp,
}

impl Reader {
    fn new(format: &str, zone: &str, received: Option<Timestamp>) -> anyhow::Result<Reader> {
        let format: Format = format.parse()?;
        let zone: chrono_tz::Tz = zone.parse().map_err(|_| {
            anyhow::anyhow!(
                "unknown time zone {zone:?} (use an IANA name such as Asia/Ho_Chi_Minh)"
            )
        })?;
        Ok(Reader {
            format,
            policy: TimePolicy::new(zone),
            received: received.unwrap_or_else(Timestamp::now),
        })
    }

    fn with_format(mut self, format: Option<&str>) -> anyhow::Result<Reader> {
        if let Some(f) = format {
            self.format = f.parse()?;
        }
        Ok(self)
    }

    fn parse(&self, line: &str) -> (Event, Parsed) {
        gac_parse::parse(line.as_bytes(), self.received, &self.policy, self.format)
    }
}

/// An event from JSON: ECS names flat (`"source.ip"`) or nested (`{"source": {"ip"}}`);
/// `@timestamp`, `message` and `tags` fill the event's own parts. Nulls are left out.
fn event_from_json(doc: &Json, received: Timestamp) -> anyhow::Result<Event> {
    let Json::Object(map) = doc else {
        bail!("an event must be a JSON object, not {doc}");
    };
    let mut e = Event::new(received, received, String::new());
    for (k, v) in map {
        match k.as_str() {
            field::TIMESTAMP => {
                e.timestamp = v
                    .as_str()
                    .context("@timestamp must be an RFC 3339 string")?
                    .parse()?;
            }
            field::EVENT_INGESTED => {}
            field::MESSAGE => {
                e.set_message(&match v {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                });
            }
            field::TAGS => {
                for t in v.as_array().context("tags must be a list")? {
                    e.add_tag(t.as_str().context("tags must be strings")?.to_owned());
                }
            }
            _ => flatten(&mut e, k, v),
        }
    }
    Ok(e)
}

fn flatten(e: &mut Event, name: &str, v: &Json) {
    match v {
        Json::Object(o) => {
            for (k, child) in o {
                flatten(e, &format!("{name}.{k}"), child);
            }
        }
        other => {
            if let Some(v) = json_value(other) {
                e.set(name.to_owned(), v);
            }
        }
    }
}

fn json_value(v: &Json) -> Option<Value> {
    match v {
        Json::Null => None,
        Json::Bool(b) => Some(Value::Bool(*b)),
        Json::Number(n) => Some(match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        }),
        Json::String(s) => Some(Value::from(s.as_str())),
        Json::Array(items) => Some(Value::List(items.iter().filter_map(json_value).collect())),
        Json::Object(_) => Some(Value::from(v.to_string())),
    }
}

/// One record to evaluate: how it was read (for display) and the event.
#[derive(Debug)]
struct Record {
    parsed: Option<Parsed>,
    event: Event,
}

// ---------------------------------------------------------------------------------------
// `gac rules test` with records: show everything.

fn try_records(args: &TestArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let layout = Layout::new(&args.dir, &args.mappings);
    let pack = load_pack(&layout)?;
    let not_loaded: usize = pack.files.iter().map(RuleFile::failed).sum();
    if not_loaded > 0 && !args.json {
        writeln!(
            out,
            "note: {not_loaded} rules of {} did not load (`gac rules check` says why)",
            layout.rules.display()
        )?;
    }
    let reader = Reader::new(&args.format, &args.zone, args.received)?;
    let mut records = Vec::new();
    for l in &args.line {
        let (event, parsed) = reader.parse(l);
        records.push(Record {
            parsed: Some(parsed),
            event,
        });
    }
    for j in &args.event {
        let doc: Json = serde_json::from_str(j).context("--event is not JSON")?;
        records.push(Record {
            parsed: None,
            event: event_from_json(&doc, reader.received)?,
        });
    }
    if let Some(path) = &args.input {
        let lines: Vec<String> = if path.as_os_str() == "-" {
            std::io::stdin().lock().lines().collect::<Result<_, _>>()?
        } else {
            std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?
                .lines()
                .map(str::to_owned)
                .collect()
        };
        for (n, l) in lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            if args.events {
                let doc: Json = serde_json::from_str(l)
                    .with_context(|| format!("{} line {}: not JSON", path.display(), n + 1))?;
                records.push(Record {
                    parsed: None,
                    event: event_from_json(&doc, reader.received)?,
                });
            } else {
                let (event, parsed) = reader.parse(l);
                records.push(Record {
                    parsed: Some(parsed),
                    event,
                });
            }
        }
    }
    let mut state = CorrelationState::new(CorrelationLimits::default());
    for (n, r) in records.iter().enumerate() {
        let matches = pack.set.evaluate(&r.event);
        let corrs = pack
            .set
            .correlate(&mut state, &r.event, r.event.timestamp.nanos(), &matches);
        if args.json {
            show_json(out, n + 1, r, &pack.set, &matches, &corrs)?;
        } else {
            show_text(out, n + 1, r, &pack.set, &matches, &corrs)?;
        }
    }
    Ok(())
}

fn logsources(set: &RuleSet, e: &Event) -> Vec<String> {
    set.mappings()
        .select(e)
        .into_iter()
        .map(|i| set.mappings().sources()[i].logsource.to_string())
        .collect()
}

fn field_text(e: &Event, name: &str) -> String {
    match e
        .field(name)
        .as_ref()
        .and_then(|v| v.as_text().map(|t| t.into_owned()))
    {
        Some(t) => t,
        None => match e.get(name) {
            Some(v) => v.to_string(),
            None => "(missing)".to_owned(),
        },
    }
}

fn parse_summary(p: &Parsed) -> String {
    format!(
        "parsed as {} (syslog header: {:?}, body: {:?})",
        p.format_name(),
        p.header,
        p.body
    )
}

fn show_text(
    out: &mut impl Write,
    n: usize,
    r: &Record,
    set: &RuleSet,
    matches: &[RuleMatch<'_>],
    corrs: &[CorrelationMatch<'_>],
) -> anyhow::Result<()> {
    let how = match &r.parsed {
        Some(p) => parse_summary(p),
        None => "event JSON".to_owned(),
    };
    writeln!(out, "== record {n}: {how}")?;
    let e = &r.event;
    writeln!(out, "  {:<32} {}", field::TIMESTAMP, e.timestamp)?;
    writeln!(out, "  {:<32} {}", field::MESSAGE, e.message())?;
    for (k, v) in e.fields.sorted() {
        writeln!(out, "  {k:<32} {v}")?;
    }
    if !e.tags.is_empty() {
        writeln!(out, "  {:<32} {}", field::TAGS, e.tags.join(", "))?;
    }
    let ls = logsources(set, e);
    if ls.is_empty() {
        writeln!(out, "  log sources: none mapped (no rule can fire)")?;
    } else {
        writeln!(out, "  log sources: {}", ls.join("; "))?;
    }
    for m in matches {
        let alert = if m.rule.standalone { "FIRES" } else { "feeds" };
        writeln!(
            out,
            "  {alert} [{}] {} ({}) in {}",
            m.severity(),
            m.title(),
            m.id().unwrap_or("no id"),
            m.rule.origin
        )?;
        writeln!(out, "        selection: {}", m.identifiers.join(", "))?;
        for f in &m.fields {
            let label = if f.sigma.is_empty() {
                "keywords".to_owned()
            } else if f.sigma == f.field {
                f.sigma.clone()
            } else {
                format!("{} -> {}", f.sigma, f.field)
            };
            writeln!(out, "        {label} = {}", field_text(e, &f.field))?;
        }
    }
    for c in corrs {
        let alert = if c.correlation.standalone {
            "FIRES"
        } else {
            "feeds"
        };
        let group: Vec<String> = c.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(
            out,
            "  {alert} correlation [{}] {} ({}) in {}: {:?} {} over {}s, group {}",
            c.severity(),
            c.correlation.meta.title,
            c.correlation.key(),
            c.correlation.origin,
            c.correlation.kind,
            c.value,
            (c.last_ns - c.first_ns) / 1_000_000_000,
            group.join(" ")
        )?;
    }
    if matches.is_empty() && corrs.is_empty() {
        writeln!(out, "  no rule fires")?;
    }
    Ok(())
}

fn show_json(
    out: &mut impl Write,
    n: usize,
    r: &Record,
    set: &RuleSet,
    matches: &[RuleMatch<'_>],
    corrs: &[CorrelationMatch<'_>],
) -> anyhow::Result<()> {
    let e = &r.event;
    let doc = json!({
        "record": n,
        "parser": r.parsed.map(|p| p.format_name()),
        "event": e,
        "logsources": logsources(set, e),
        "matches": matches.iter().map(|m| json!({
            "id": m.id(),
            "title": m.title(),
            "level": m.severity().to_string(),
            "file": m.rule.origin,
            "alert": m.rule.standalone,
            "identifiers": m.identifiers,
            "fields": m.fields.iter().map(|f| json!({
                "sigma": f.sigma, "field": f.field, "value": field_text(e, &f.field),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "correlations": corrs.iter().map(|c| json!({
            "id": c.correlation.key(),
            "title": c.correlation.meta.title,
            "level": c.severity().to_string(),
            "file": c.correlation.origin,
            "alert": c.correlation.standalone,
            "type": format!("{:?}", c.correlation.kind),
            "value": c.value,
            "group": c.group.iter().cloned().collect::<BTreeMap<_, _>>(),
            "first": Timestamp::from_nanos(c.first_ns).to_string(),
            "last": Timestamp::from_nanos(c.last_ns).to_string(),
        })).collect::<Vec<_>>(),
    });
    serde_json::to_writer(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Test files.

/// One rule file's tests: `tests/<stem>.yml` beside `rules/**/<stem>.yml`.
///
/// ```yaml
/// rule: linux/ssh_brute_force.yml  # optional: the rule file under rules/ (default: the
///                                  # rule file with this file's stem)
/// format: auto                     # how raw lines are read, as an input's `format`
/// zone: UTC                        # zone for records that carry none
/// received: 2024-03-01T12:00:00Z   # receive time: decides the year of records without one
/// must_fire:                       # each case must make a rule of the file alert
///   - "Mar  1 10:00:00 web-01 sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2"
///   - name: an event given by its fields
///     event: {event.dataset: sshd, source.ip: 192.0.2.1}
///   - name: ten failures in a minute       # a sequence, for correlation rules
///     sequence:
///       - line: "..."
///         repeat: 10       # this step ten times...
///         every: 5s        # ...five seconds apart
///       - at: 2m           # time from the first event of the case
///         line: "..."
/// must_not_fire:                   # no case may make a rule of the file alert
///   - ...
/// ```
///
/// A case is a raw record (a string), or a map with `line`, `event` or `sequence` and an
/// optional `name` and `format`. Every case runs alone, with fresh correlation state,
/// against the whole pack; what counts is an alert from the rule file under test: a match
/// of one of its rules that alerts on its own, or one of its correlations firing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    rule: Option<String>,
    format: Option<String>,
    zone: Option<String>,
    received: Option<Timestamp>,
    #[serde(default)]
    must_fire: Vec<Yaml>,
    #[serde(default)]
    must_not_fire: Vec<Yaml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseMap {
    name: Option<String>,
    format: Option<String>,
    line: Option<String>,
    event: Option<Yaml>,
    sequence: Option<Vec<Step>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    /// Time from the first event of the case (`30s`, `5m`); default: the record's own.
    at: Option<String>,
    line: Option<String>,
    event: Option<Yaml>,
    format: Option<String>,
    /// How many times this step happens (default 1).
    repeat: Option<u32>,
    /// Time between repeats (default 1s).
    every: Option<String>,
}

/// A case, ready to run: its label and its events in order.
#[derive(Debug)]
struct Case {
    label: String,
    events: Vec<Event>,
}

/// Where an event comes from: a raw line or fields.
fn one_event(
    reader: &Reader,
    format: Option<&str>,
    line: Option<&str>,
    event: Option<&Yaml>,
) -> anyhow::Result<Event> {
    match (line, event) {
        (Some(l), None) => Ok(reader.with_format(format)?.parse(l).0),
        (None, Some(y)) => {
            let doc = serde_json::to_value(y).context("event is not JSON-like")?;
            event_from_json(&doc, reader.received)
        }
        _ => bail!("give exactly one of `line` and `event`"),
    }
}

fn build_case(reader: &Reader, kind: &str, n: usize, raw: &Yaml) -> anyhow::Result<Case> {
    let here = format!("{kind}[{n}]");
    if let Some(line) = raw.as_str() {
        return Ok(Case {
            label: here,
            events: vec![reader.parse(line).0],
        });
    }
    let c: CaseMap =
        serde_norway::from_value(raw.clone()).with_context(|| format!("{here} is not a case"))?;
    let label = match &c.name {
        Some(name) => format!("{here} ({name})"),
        None => here.clone(),
    };
    let format = c.format.as_deref();
    let events = match (&c.line, &c.event, &c.sequence) {
        (None, None, Some(steps)) => {
            let mut events = Vec::new();
            let mut base: Option<Timestamp> = None;
            for (i, step) in steps.iter().enumerate() {
                let ctx = || format!("{here} step {i}");
                let e = one_event(
                    reader,
                    step.format.as_deref().or(format),
                    step.line.as_deref(),
                    step.event.as_ref(),
                )
                .with_context(ctx)?;
                let start = *base.get_or_insert(e.timestamp);
                let at = match &step.at {
                    Some(a) => Some(start.add_nanos(parse_duration_nanos(a).with_context(ctx)?)),
                    None => None,
                };
                let every = parse_duration_nanos(step.every.as_deref().unwrap_or("1s"))
                    .with_context(ctx)?;
                let first = at.unwrap_or(e.timestamp);
                for k in 0..step.repeat.unwrap_or(1) {
                    let mut copy = e.clone();
                    copy.timestamp = first.add_nanos(every.saturating_mul(i64::from(k)));
                    events.push(copy);
                }
            }
            events
        }
        (line, event, None) => {
            vec![
                one_event(reader, format, line.as_deref(), event.as_ref())
                    .with_context(|| here.clone())?,
            ]
        }
        _ => bail!("{here}: give one of `line`, `event` and `sequence`"),
    };
    if events.is_empty() {
        bail!("{here} has no events");
    }
    Ok(Case { label, events })
}

/// What alerted during one case, from the file under test.
fn alerts(pack: &Pack, origin: &str, case: &Case) -> Vec<String> {
    let mut state = CorrelationState::new(CorrelationLimits::default());
    let mut fired = Vec::new();
    for (n, e) in case.events.iter().enumerate() {
        let matches = pack.set.evaluate(e);
        let corrs = pack
            .set
            .correlate(&mut state, e, e.timestamp.nanos(), &matches);
        for m in matches
            .iter()
            .filter(|m| m.rule.origin == origin && m.rule.standalone)
        {
            fired.push(format!(
                "{:?} on event {} (selection: {})",
                m.title(),
                n + 1,
                m.identifiers.join(", ")
            ));
        }
        for c in corrs
            .iter()
            .filter(|c| c.correlation.origin == origin && c.correlation.standalone)
        {
            fired.push(format!(
                "correlation {:?} on event {} (value {})",
                c.correlation.meta.title,
                n + 1,
                c.value
            ));
        }
    }
    fired
}

/// Everything from other files that alerted, to help explain a miss.
fn others(pack: &Pack, case: &Case) -> Vec<String> {
    let mut seen = Vec::new();
    let mut state = CorrelationState::new(CorrelationLimits::default());
    for e in &case.events {
        let matches = pack.set.evaluate(e);
        for c in pack
            .set
            .correlate(&mut state, e, e.timestamp.nanos(), &matches)
        {
            seen.push(format!(
                "{} ({})",
                c.correlation.meta.title, c.correlation.origin
            ));
        }
        for m in matches {
            seen.push(format!("{} ({})", m.title(), m.rule.origin));
        }
    }
    seen.dedup();
    seen
}

fn run_tests(args: &TestArgs, out: &mut impl Write) -> anyhow::Result<bool> {
    let layout = Layout::new(&args.dir, &args.mappings);
    let pack = load_pack(&layout)?;
    let (mut passed, mut failed) = (0usize, 0usize);
    for f in pack.files.iter().filter(|f| f.failed() > 0) {
        failed += 1;
        writeln!(out, "FAIL  {}: rules did not load:", f.origin)?;
        if let Some(e) = &f.unreadable {
            writeln!(out, "        {e}")?;
        }
        for d in &f.docs {
            if let Err(e) = &d.outcome {
                writeln!(out, "        {e}")?;
            }
        }
    }
    let tests_dir = args.dir.join("tests");
    let test_files = if tests_dir.is_dir() {
        yaml_files(&tests_dir)?
    } else {
        Vec::new()
    };
    let mut tested = Vec::new();
    for path in &test_files {
        let name = path
            .strip_prefix(&tests_dir)
            .unwrap_or(path)
            .display()
            .to_string();
        match run_test_file(&pack, &layout, args, path, out) {
            Ok((origin, p, f)) => {
                tested.push(origin);
                passed += p;
                failed += f;
            }
            Err(e) => {
                failed += 1;
                writeln!(out, "FAIL  {name}: {e:#}")?;
            }
        }
    }
    for f in &pack.files {
        if !tested.contains(&f.origin) {
            failed += 1;
            writeln!(
                out,
                "FAIL  {}: no test file (want {}/{}.yml)",
                f.origin,
                tests_dir.display(),
                stem(&f.origin)
            )?;
        }
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    Ok(failed == 0)
}

fn stem(origin: &str) -> String {
    Path::new(origin)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Runs one test file; returns the rule file it tests and the cases passed and failed.
fn run_test_file(
    pack: &Pack,
    layout: &Layout,
    args: &TestArgs,
    path: &Path,
    out: &mut impl Write,
) -> anyhow::Result<(String, usize, usize)> {
    let text = std::fs::read_to_string(path)?;
    let t: TestFile = serde_norway::from_str(&text).context("not a test file")?;
    let want_stem = stem(&path.display().to_string());
    let origin = match &t.rule {
        Some(r) => {
            if !layout.rules.join(r).is_file() {
                bail!("rule file {r} is not in {}", layout.rules.display());
            }
            r.clone()
        }
        None => {
            let found: Vec<&RuleFile> = pack
                .files
                .iter()
                .filter(|f| stem(&f.origin) == want_stem)
                .collect();
            match found.as_slice() {
                [one] => one.origin.clone(),
                [] => bail!(
                    "no rule file named {want_stem}.yml under {}",
                    layout.rules.display()
                ),
                _ => bail!("several rule files are named {want_stem}.yml: set `rule:`"),
            }
        }
    };
    if t.must_fire.is_empty() || t.must_not_fire.is_empty() {
        bail!("needs at least one must_fire and one must_not_fire case");
    }
    let reader = Reader::new(
        t.format.as_deref().unwrap_or(&args.format),
        t.zone.as_deref().unwrap_or("UTC"),
        t.received.or(args.received),
    )?;
    let (mut passed, mut failed) = (0, 0);
    for (kind, cases, want) in [
        ("must_fire", &t.must_fire, true),
        ("must_not_fire", &t.must_not_fire, false),
    ] {
        for (n, raw) in cases.iter().enumerate() {
            let case = build_case(&reader, kind, n, raw)?;
            let fired = alerts(pack, &origin, &case);
            if fired.is_empty() != want {
                passed += 1;
                writeln!(out, "ok    {origin}: {}", case.label)?;
                continue;
            }
            failed += 1;
            if want {
                writeln!(out, "FAIL  {origin}: {}: did not fire", case.label)?;
                let other = others(pack, &case);
                if !other.is_empty() {
                    writeln!(out, "        (fired instead: {})", other.join("; "))?;
                }
                for (i, e) in case.events.iter().enumerate().take(3) {
                    let ds = e
                        .get_str(field::EVENT_DATASET)
                        .unwrap_or("(no event.dataset)");
                    let ls = logsources(&pack.set, e);
                    writeln!(
                        out,
                        "        event {}: {ds}, {} fields, log sources: {}",
                        i + 1,
                        e.fields.len(),
                        if ls.is_empty() {
                            "none".to_owned()
                        } else {
                            ls.join("; ")
                        }
                    )?;
                }
            } else {
                writeln!(
                    out,
                    "FAIL  {origin}: {}: fired: {}",
                    case.label,
                    fired.join("; ")
                )?;
            }
        }
    }
    Ok((origin, passed, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_json_flattens_and_fills_the_event_parts() {
        let doc = json!({
            "@timestamp": "2024-03-01T10:00:00Z",
            "message": "hi",
            "source": {"ip": "192.0.2.1", "port": 22},
            "event.dataset": "sshd",
            "tags": ["a"],
            "gone": null,
        });
        let e = event_from_json(&doc, Timestamp::from_secs(0)).unwrap();
        assert_eq!(e.timestamp.to_string(), "2024-03-01T10:00:00Z");
        assert_eq!(e.message(), "hi");
        assert_eq!(e.get_str("source.ip"), Some("192.0.2.1"));
        assert_eq!(e.get_i64("source.port"), Some(22));
        assert_eq!(e.get_str("event.dataset"), Some("sshd"));
        assert!(e.get("gone").is_none());
        assert_eq!(e.tags[..], ["a"]);
    }

    #[test]
    fn sequences_space_repeats_and_offset_steps() {
        let reader = Reader::new("auto", "UTC", Some(Timestamp::from_secs(1_700_000_000))).unwrap();
        let raw: Yaml = serde_norway::from_str(
            "sequence:\n  - event: {'@timestamp': '2024-03-01T10:00:00Z', a: 1}\n    repeat: 3\n    every: 10s\n  - at: 2m\n    event: {b: 2}\n",
        )
        .unwrap();
        let case = build_case(&reader, "must_fire", 0, &raw).unwrap();
        let times: Vec<String> = case
            .events
            .iter()
            .map(|e| e.timestamp.to_string())
            .collect();
        assert_eq!(
            times,
            [
                "2024-03-01T10:00:00Z",
                "2024-03-01T10:00:10Z",
                "2024-03-01T10:00:20Z",
                "2024-03-01T10:02:00Z"
            ]
        );
    }

    #[test]
    fn bad_cases_say_what_is_wrong() {
        let reader = Reader::new("auto", "UTC", None).unwrap();
        let raw: Yaml = serde_norway::from_str("{line: x, event: {a: 1}}").unwrap();
        let err = build_case(&reader, "must_fire", 2, &raw).unwrap_err();
        assert!(format!("{err:#}").contains("exactly one"), "{err:#}");
        let raw: Yaml = serde_norway::from_str("{lines: x}").unwrap();
        let err = build_case(&reader, "must_fire", 0, &raw).unwrap_err();
        assert!(format!("{err:#}").contains("unknown field"), "{err:#}");
    }
}
