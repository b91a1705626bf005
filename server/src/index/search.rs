//! Read side of the store: a query string and a time range to a page of events (newest
//! first), a date histogram, or the top values of a field. Each day index is searched on
//! its own and the results merged; tantivy's intermediate aggregation results merge
//! across indexes exactly as across segments.

use std::ops::Bound;
use std::sync::Arc;

use gac_event::api::{
    Bucket, HistogramResponse, MAX_PAGE, SearchResponse, Selection, TopResponse, TopValue,
};
use gac_event::{Event, Timestamp};
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::agg_result::AggregationResults;
use tantivy::aggregation::intermediate_agg_result::IntermediateAggregationResults;
use tantivy::aggregation::{AggContextParams, DistributedAggregationCollector};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, RangeQuery};
use tantivy::schema::Value as _;
use tantivy::{DateTime, Order, TantivyDocument, Term};

use super::Store;
use super::store::DayIndex;

/// A search that could not be run.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("invalid query: {0}")]
    Query(#[from] tantivy::query::QueryParserError),
    #[error("invalid request: {0}")]
    Request(String),
    #[error("index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("stored event is unreadable: {0}")]
    Source(#[from] serde_json::Error),
}

/// Histograms aim for about this many buckets when no interval is given.
const TARGET_BUCKETS: i64 = 60;

/// Runs queries against a [`Store`].
#[derive(Debug, Clone)]
pub struct Searcher {
    store: Arc<Store>,
}

impl Searcher {
    pub fn new(store: Arc<Store>) -> Self {
        Self { store }
    }

    /// The parsed query with the time range applied, for one day index.
    fn query(&self, day: &DayIndex, sel: &Selection) -> Result<Box<dyn Query>, SearchError> {
        let schema = self.store.schema();
        let text: Box<dyn Query> = if sel.q.trim().is_empty() {
            Box::new(AllQuery)
        } else {
            let mut parser = QueryParser::for_index(&day.index, schema.default_fields());
            // Words typed next to each other must all match, as in Splunk; OR is explicit.
            parser.set_conjunction_by_default();
            let parsed = match parser.parse_query(&sel.q) {
                // `NOT x` alone: tantivy refuses a query that only excludes; an analyst
                // means "everything but x".
                Err(tantivy::query::QueryParserError::AllButQueryForbidden) => {
                    parser.parse_query(&format!("* AND ({})", sel.q))?
                }
                other => other?,
            };
            hoist_negations(parsed)
        };
        if sel.from.is_none() && sel.to.is_none() {
            return Ok(text);
        }
        let ts = schema.timestamp();
        let bound = |t: Option<Timestamp>, inclusive: bool| match t {
            None => Bound::Unbounded,
            Some(t) => {
                let term = Term::from_field_date(ts, DateTime::from_timestamp_nanos(t.nanos()));
                if inclusive {
                    Bound::Included(term)
                } else {
                    Bound::Excluded(term)
                }
            }
        };
        let range = RangeQuery::new(bound(sel.from, true), bound(sel.to, false));
        Ok(Box::new(BooleanQuery::new(vec![
            (Occur::Must, text),
            (Occur::Must, Box::new(range)),
        ])))
    }

    fn check_range(sel: &Selection) -> Result<(), SearchError> {
        if let (Some(from), Some(to)) = (sel.from, sel.to)
            && from >= to
        {
            return Err(SearchError::Request(format!(
                "the range is empty: from {from} is not before to {to}"
            )));
        }
        Ok(())
    }

    /// A page of matching events, newest first, and the total count.
    pub fn search(
        &self,
        sel: &Selection,
        limit: usize,
        offset: usize,
    ) -> Result<SearchResponse, SearchError> {
        Self::check_range(sel)?;
        if limit > MAX_PAGE || offset > MAX_PAGE {
            return Err(SearchError::Request(format!(
                "limit and offset may be at most {MAX_PAGE}; narrow the time range instead"
            )));
        }
        let want = offset + limit;
        let mut total = 0u64;
        let mut found: Vec<(i64, Event)> = Vec::new();
        for day in self.store.days_between(sel.from, sel.to) {
            let query = self.query(&day, sel)?;
            let searcher = day.reader.searcher();
            let top = TopDocs::with_limit(want.max(1))
                .order_by_fast_field::<DateTime>(gac_event::field::TIMESTAMP, Order::Desc);
            let (count, docs) = searcher.search(&query, &(Count, top))?;
            total += count as u64;
            for (_, addr) in docs.into_iter().take(want) {
                let doc: TantivyDocument = searcher.doc(addr)?;
                let Some(bytes) = doc
                    .get_first(self.store.schema().source())
                    .and_then(|v| v.as_bytes())
                else {
                    continue;
                };
                let event: Event = serde_json::from_slice(bytes)?;
                found.push((event.timestamp.nanos(), event));
            }
            // Days are newest first: once a full page is found and the next day is all
            // older, the page cannot change, but the total still needs every day.
        }
        found.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| event_seq(&b.1).cmp(&event_seq(&a.1)))
        });
        let hits = found
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(_, e)| e)
            .collect();
        Ok(SearchResponse { total, hits })
    }

    /// Runs one aggregation over every day in range and merges the results.
    fn aggregate(
        &self,
        sel: &Selection,
        aggs: serde_json::Value,
    ) -> Result<AggregationResults, SearchError> {
        Self::check_range(sel)?;
        let aggs: Aggregations =
            serde_json::from_value(aggs).map_err(|e| SearchError::Request(e.to_string()))?;
        let mut merged: Option<IntermediateAggregationResults> = None;
        for day in self.store.days_between(sel.from, sel.to) {
            let query = self.query(&day, sel)?;
            let collector = DistributedAggregationCollector::from_aggs(
                aggs.clone(),
                AggContextParams::default(),
            );
            let part = day.reader.searcher().search(&query, &collector)?;
            match merged.as_mut() {
                None => merged = Some(part),
                Some(m) => m.merge_fruits(part)?,
            }
        }
        let merged = merged.unwrap_or_default();
        Ok(merged.into_final_result(aggs, Default::default())?)
    }

    /// Event counts per time bucket.
    pub fn histogram(
        &self,
        sel: &Selection,
        interval_secs: Option<u64>,
    ) -> Result<HistogramResponse, SearchError> {
        let interval = match interval_secs {
            Some(0) => return Err(SearchError::Request("interval_secs must be above 0".into())),
            Some(s) => s,
            None => auto_interval(sel),
        };
        let results = self.aggregate(
            sel,
            serde_json::json!({
                "h": {"date_histogram": {
                    "field": gac_event::field::TIMESTAMP,
                    "fixed_interval": format!("{interval}s"),
                    "min_doc_count": 1
                }}
            }),
        )?;
        let json = serde_json::to_value(&results)?;
        let buckets = json["h"]["buckets"]
            .as_array()
            .map(|bs| {
                bs.iter()
                    .filter_map(|b| {
                        let ms = b["key"].as_f64()?;
                        Some(Bucket {
                            start: Timestamp::from_nanos((ms as i64).saturating_mul(1_000_000)),
                            count: b["doc_count"].as_u64()?,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(HistogramResponse {
            interval_secs: interval,
            buckets,
        })
    }

    /// The most frequent values of a field.
    pub fn top(
        &self,
        sel: &Selection,
        field: &str,
        size: usize,
    ) -> Result<TopResponse, SearchError> {
        if field.is_empty() || size == 0 || size > 1000 {
            return Err(SearchError::Request(
                "field must be named and size must be 1 to 1000".into(),
            ));
        }
        let column = self.store.schema().column_for(field);
        let results = self.aggregate(
            sel,
            serde_json::json!({
                "t": {"terms": {"field": column, "size": size, "shard_size": size * 10}},
                "n": {"value_count": {"field": gac_event::field::TIMESTAMP}}
            }),
        )?;
        let json = serde_json::to_value(&results)?;
        let values: Vec<TopValue> = json["t"]["buckets"]
            .as_array()
            .map(|bs| {
                bs.iter()
                    .filter_map(|b| {
                        let value = match &b["key"] {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        Some(TopValue {
                            value,
                            count: b["doc_count"].as_u64()?,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let matched = json["n"]["value"].as_f64().unwrap_or(0.0) as u64;
        let listed: u64 = values.iter().map(|v| v.count).sum();
        Ok(TopResponse {
            field: field.to_owned(),
            other: matched.saturating_sub(listed),
            values,
        })
    }
}

/// Makes negations mean what an analyst means. tantivy parses `a AND NOT b` into
/// `+a +(-b)`, and a group holding only exclusions matches nothing, so the whole query
/// would match nothing. Such a group under a required clause is lifted into its parent
/// (`+a -b`); a query made only of exclusions excludes from everything.
fn hoist_negations(query: Box<dyn Query>) -> Box<dyn Query> {
    let Some(boolean) = query.downcast_ref::<BooleanQuery>() else {
        return query;
    };
    let only_negations = |q: &dyn Query| {
        q.downcast_ref::<BooleanQuery>().is_some_and(|b| {
            !b.clauses().is_empty() && b.clauses().iter().all(|(o, _)| *o == Occur::MustNot)
        })
    };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (occur, sub) in boolean.clauses() {
        let sub = hoist_negations(sub.box_clone());
        if *occur == Occur::Must && only_negations(sub.as_ref()) {
            let inner = sub.downcast_ref::<BooleanQuery>().expect("checked above");
            clauses.extend(inner.clauses().iter().map(|(o, q)| (*o, q.box_clone())));
        } else {
            clauses.push((*occur, sub));
        }
    }
    if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    Box::new(BooleanQuery::with_minimum_required_clauses(
        clauses,
        boolean.get_minimum_number_should_match(),
    ))
}

fn event_seq(e: &Event) -> u64 {
    e.get_str(gac_event::field::EVENT_ID)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A round interval giving about [`TARGET_BUCKETS`] buckets over the range.
fn auto_interval(sel: &Selection) -> u64 {
    const STEPS: [u64; 12] = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800, 43200, 86400];
    let (Some(from), Some(to)) = (sel.from, sel.to.or_else(|| Some(Timestamp::now()))) else {
        return 3600;
    };
    let span_secs = (to.secs() - from.secs()).max(1);
    let ideal = (span_secs / TARGET_BUCKETS).max(1) as u64;
    STEPS.iter().copied().find(|s| *s >= ideal).unwrap_or(86400)
}

#[cfg(test)]
mod tests {
    use gac_event::field;

    use super::super::Schema;
    use super::super::store::{Writers, day_of};
    use super::*;

    /// A store holding `n` events a minute apart from `start`, on whatever days they
    /// fall, committed; event `i` has host `h{i % 3}` and the word `even` or `odd`.
    fn store_with(start: &str, n: usize) -> (tempfile::TempDir, Searcher) {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path(), Schema::new()).unwrap());
        let mut writers = Writers::new(&store, 15 << 20, 1).unwrap();
        let start: Timestamp = start.parse().unwrap();
        for i in 0..n {
            let t = start.add_nanos(i as i64 * 60_000_000_000);
            let word = if i % 2 == 0 { "even" } else { "odd" };
            let mut e = Event::new(t, t, format!("record {i} is {word}"));
            e.set(field::EVENT_ID, i.to_string());
            e.set(field::HOST_NAME, format!("h{}", i % 3));
            e.set(field::SOURCE_PORT, 1000 + i as i64);
            e.set(
                field::LOG_SYSLOG_APPNAME,
                if i < 3 { "sshd" } else { "cron" },
            );
            let json = serde_json::to_vec(&e).unwrap();
            let doc = store.schema().document(&e, json);
            writers.add(&store, day_of(t), doc, 0, i as u64).unwrap();
        }
        writers.commit(n as u64).unwrap();
        (dir, Searcher::new(store))
    }

    fn ids(r: &SearchResponse) -> Vec<String> {
        r.hits
            .iter()
            .map(|e| e.get_str(field::EVENT_ID).unwrap().to_owned())
            .collect()
    }

    fn sel(q: &str) -> Selection {
        Selection {
            q: q.to_owned(),
            ..Selection::default()
        }
    }

    #[test]
    fn pages_are_newest_first_across_days() {
        // 10 events from 23:55 to 00:04: two day indexes.
        let (_d, s) = store_with("2026-11-20T23:55:00Z", 10);
        let first = s.search(&sel(""), 4, 0).unwrap();
        assert_eq!(first.total, 10);
        assert_eq!(ids(&first), ["9", "8", "7", "6"]);
        let third = s.search(&sel(""), 4, 8).unwrap();
        assert_eq!(ids(&third), ["1", "0"]);
        let odd = s.search(&sel("odd"), 100, 0).unwrap();
        assert_eq!(ids(&odd), ["9", "7", "5", "3", "1"]);
    }

    #[test]
    fn fields_ranges_and_time_bounds_select() {
        let (_d, s) = store_with("2026-11-20T23:55:00Z", 10);
        assert_eq!(
            ids(&s.search(&sel("host.name:h1"), 10, 0).unwrap()),
            ["7", "4", "1"]
        );
        assert_eq!(
            ids(&s.search(&sel("log.syslog.appname:sshd"), 10, 0).unwrap()),
            ["2", "1", "0"]
        );
        assert_eq!(
            ids(&s.search(&sel("source.port:[1003 TO 1004]"), 10, 0).unwrap()),
            ["4", "3"]
        );
        assert_eq!(
            ids(&s.search(&sel("even AND NOT host.name:h0"), 10, 0).unwrap()),
            ["8", "4", "2"]
        );
        assert_eq!(
            ids(&s.search(&sel("even -host.name:h0"), 10, 0).unwrap()),
            ["8", "4", "2"]
        );
        assert_eq!(
            ids(&s.search(&sel("NOT even"), 10, 0).unwrap()),
            ["9", "7", "5", "3", "1"]
        );
        assert_eq!(
            ids(&s
                .search(&sel("(odd OR host.name:h2) AND NOT record"), 10, 0)
                .unwrap()),
            Vec::<String>::new()
        );
        let window = Selection {
            q: String::new(),
            from: Some("2026-11-20T23:58:00Z".parse().unwrap()),
            to: Some("2026-11-21T00:01:00Z".parse().unwrap()),
        };
        assert_eq!(ids(&s.search(&window, 10, 0).unwrap()), ["5", "4", "3"]);
        assert!(matches!(
            s.search(&sel("host.name:(unclosed"), 10, 0),
            Err(SearchError::Query(_))
        ));
    }

    #[test]
    fn histogram_and_top_count_exactly() {
        let (_d, s) = store_with("2026-11-20T23:55:00Z", 10);
        let h = s.histogram(&sel(""), Some(300)).unwrap();
        let counts: Vec<u64> = h.buckets.iter().map(|b| b.count).collect();
        assert_eq!(counts, [5, 5]);
        assert_eq!(h.buckets[1].start.to_string(), "2026-11-21T00:00:00Z");
        let top = s.top(&sel(""), field::HOST_NAME, 2).unwrap();
        let got: Vec<(&str, u64)> = top
            .values
            .iter()
            .map(|v| (v.value.as_str(), v.count))
            .collect();
        assert_eq!(got, [("h0", 4), ("h1", 3)]);
        assert_eq!(top.other, 3);
        let top = s.top(&sel("even"), field::LOG_SYSLOG_APPNAME, 5).unwrap();
        let got: Vec<(&str, u64)> = top
            .values
            .iter()
            .map(|v| (v.value.as_str(), v.count))
            .collect();
        assert_eq!(got, [("cron", 3), ("sshd", 2)]);
        assert_eq!(top.other, 0);
    }

    #[test]
    fn auto_interval_picks_round_steps() {
        let sel = |span: i64| Selection {
            q: String::new(),
            from: Some(Timestamp::from_secs(0)),
            to: Some(Timestamp::from_secs(span)),
        };
        assert_eq!(auto_interval(&sel(3600)), 60);
        assert_eq!(auto_interval(&sel(86400)), 1800);
        assert_eq!(auto_interval(&sel(10)), 1);
    }
}
