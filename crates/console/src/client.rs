//! The HTTP client for the server's API; answers come back as `gac_event::api` types and
//! errors carry the server's own message.

use anyhow::{Context, bail};
use gac_event::api::{
    AgentsResponse, CompletenessResponse, ErrorBody, HistogramResponse, SearchResponse, Selection,
    StatsResponse, TopResponse,
};
use serde::de::DeserializeOwned;

use crate::settings::Settings;

#[derive(Debug)]
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
    token: String,
}

impl Client {
    pub fn new(s: &Settings) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::blocking::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()?,
            base: format!("{}/api/v1", s.server),
            token: s.token.clone(),
        })
    }

    fn get<T: DeserializeOwned>(&self, path: &str, params: &[(&str, String)]) -> anyhow::Result<T> {
        let url = format!("{}{}", self.base, path);
        let resp = self
            .http
            .get(&url)
            .bearer_auth(&self.token)
            .query(params)
            .send()
            .with_context(|| format!("cannot reach the server at {url}"))?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().unwrap_or_default();
            let msg = serde_json::from_str::<ErrorBody>(&body)
                .map(|e| e.error)
                .unwrap_or(body);
            bail!("server answered {status}: {msg}");
        }
        resp.json()
            .context("the server's answer is not what gac expects")
    }

    fn selection_params(sel: &Selection) -> Vec<(&'static str, String)> {
        let mut p = vec![("q", sel.q.clone())];
        if let Some(from) = sel.from {
            p.push(("from", from.to_string()));
        }
        if let Some(to) = sel.to {
            p.push(("to", to.to_string()));
        }
        p
    }

    pub fn search(
        &self,
        sel: &Selection,
        limit: usize,
        offset: usize,
    ) -> anyhow::Result<SearchResponse> {
        let mut p = Self::selection_params(sel);
        p.push(("limit", limit.to_string()));
        p.push(("offset", offset.to_string()));
        self.get("/search", &p)
    }

    pub fn histogram(
        &self,
        sel: &Selection,
        interval_secs: Option<u64>,
    ) -> anyhow::Result<HistogramResponse> {
        let mut p = Self::selection_params(sel);
        if let Some(i) = interval_secs {
            p.push(("interval_secs", i.to_string()));
        }
        self.get("/histogram", &p)
    }

    pub fn top(&self, sel: &Selection, field: &str, size: usize) -> anyhow::Result<TopResponse> {
        let mut p = Self::selection_params(sel);
        p.push(("field", field.to_owned()));
        p.push(("size", size.to_string()));
        self.get("/top", &p)
    }

    pub fn stats(&self) -> anyhow::Result<StatsResponse> {
        self.get("/stats", &[])
    }

    pub fn agents(&self) -> anyhow::Result<AgentsResponse> {
        self.get("/agents", &[])
    }

    /// Whether agent `id` sent everything in the selection's time range.
    pub fn completeness(
        &self,
        id: &str,
        sel: &Selection,
        source: Option<&str>,
    ) -> anyhow::Result<CompletenessResponse> {
        let mut p: Vec<_> = Self::selection_params(sel)
            .into_iter()
            .filter(|(k, _)| *k != "q")
            .collect();
        if let Some(s) = source {
            p.push(("source", s.to_owned()));
        }
        // Agent ids are hex, but a typed prefix may be anything: keep the path intact.
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            bail!("{id:?} is not an agent id");
        }
        self.get(&format!("/agents/{id}/completeness"), &p)
    }
}
