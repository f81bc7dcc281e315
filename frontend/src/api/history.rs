//! Login history: a person's own, the auditors' search, its export and who was on a host.

use opsportal_shared::history::{EventPage, LogEventView};

use super::{ApiError, call, encode};

/// What a history search is narrowed to; empty fields match everything. Times are RFC 3339.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventQuery {
    pub person: String,
    pub host: String,
    pub src: String,
    pub serial: String,
    pub key: String,
    pub kind: String,
    pub from: String,
    pub to: String,
    pub text: String,
    pub flagged_only: bool,
    /// Most events a page holds.
    pub limit: u32,
    /// Where the previous page ended, from its `next`.
    pub after: Option<String>,
}

impl EventQuery {
    /// The filters as `name=value&...`, percent-encoded, without paging: what an export of
    /// the same result is asked with.
    pub fn filters(&self) -> String {
        let mut pairs: Vec<String> = [
            ("person", &self.person),
            ("host", &self.host),
            ("src", &self.src),
            ("serial", &self.serial),
            ("key", &self.key),
            ("kind", &self.kind),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.text),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            let value = value.trim();
            (!value.is_empty()).then(|| format!("{name}={}", encode(value)))
        })
        .collect();
        if self.flagged_only {
            pairs.push("flagged=true".into());
        }
        pairs.join("&")
    }

    /// The filters with the page size and position.
    fn with_paging(&self) -> String {
        let mut query = format!("limit={}", self.limit.max(1));
        if let Some(after) = &self.after {
            query.push_str(&format!("&after={}", encode(after)));
        }
        let filters = self.filters();
        if !filters.is_empty() {
            query.push('&');
            query.push_str(&filters);
        }
        query
    }
}

/// The signed-in person's own events; the server ignores any person filter here.
pub async fn my_history(query: EventQuery) -> Result<EventPage, ApiError> {
    call(
        "GET",
        &format!("/api/history?{}", query.with_paging()),
        None::<&()>,
    )
    .await
}

/// Everyone's events, for auditors and admins.
pub async fn audit_events(query: EventQuery) -> Result<EventPage, ApiError> {
    call(
        "GET",
        &format!("/api/audit/events?{}", query.with_paging()),
        None::<&()>,
    )
    .await
}

/// Where the browser downloads the whole result of `query` as `csv` or `ndjson`.
pub fn audit_export_path(query: &EventQuery, format: &str) -> String {
    let filters = query.filters();
    if filters.is_empty() {
        format!("/api/audit/export?format={format}")
    } else {
        format!("/api/audit/export?format={format}&{filters}")
    }
}

/// Logins on `host` whose connection overlapped `from`..`to` (RFC 3339).
pub async fn sessions_on_host(
    host: String,
    from: String,
    to: String,
) -> Result<Vec<LogEventView>, ApiError> {
    let path = format!(
        "/api/audit/sessions?host={}&from={}&to={}",
        encode(host.trim()),
        encode(&from),
        encode(&to)
    );
    call("GET", &path, None::<&()>).await
}
