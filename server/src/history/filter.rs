//! What a history search asks for, read from the query string and checked.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Most events one page returns.
pub const MAX_PAGE: i64 = 500;

/// The query string of the search endpoints, as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    pub person: Option<String>,
    pub host: Option<String>,
    pub src: Option<String>,
    pub serial: Option<String>,
    pub key: Option<String>,
    pub kind: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub q: Option<String>,
    pub flagged: Option<bool>,
    pub after: Option<String>,
    pub limit: Option<i64>,
    pub format: Option<String>,
}

/// Where the previous page ended: newest first, so the next page holds older events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub event_at: DateTime<Utc>,
    pub event_id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.event_at.timestamp_micros(), self.event_id)
    }

    fn decode(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('.')?;
        Some(Self {
            event_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            event_id: id.parse().ok()?,
        })
    }
}

/// A checked search.
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    pub person: Option<String>,
    pub host: Option<String>,
    pub src: Option<IpAddr>,
    pub serial: Option<u64>,
    pub key: Option<String>,
    pub kind: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub text: Option<String>,
    pub flagged_only: bool,
    pub after: Option<Cursor>,
    pub limit: i64,
}

/// The event kinds a search may name.
pub use opsportal_shared::history::EVENT_KINDS as KINDS;

impl SearchQuery {
    /// Checks every field; the message names the one at fault.
    pub fn check(self) -> Result<EventFilter, String> {
        let given = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let time = |name: &str, v: Option<String>| {
            given(v)
                .map(|t| {
                    DateTime::parse_from_rfc3339(&t)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|_| format!("{name} must be an RFC 3339 time"))
                })
                .transpose()
        };
        let kind = given(self.kind);
        if let Some(kind) = &kind
            && !KINDS.contains(&kind.as_str())
        {
            return Err(format!("kind must be one of {}", KINDS.join(", ")));
        }
        let text = given(self.q);
        if text.as_ref().is_some_and(|t| t.chars().count() > 200) {
            return Err("q must be at most 200 characters".into());
        }
        Ok(EventFilter {
            person: given(self.person),
            host: given(self.host),
            src: given(self.src)
                .map(|s| {
                    s.parse()
                        .map_err(|_| "src must be an IP address".to_owned())
                })
                .transpose()?,
            serial: given(self.serial)
                .map(|s| {
                    s.parse()
                        .map_err(|_| "serial must be a decimal number".to_owned())
                })
                .transpose()?,
            key: given(self.key),
            kind,
            from: time("from", self.from)?,
            to: time("to", self.to)?,
            text,
            flagged_only: self.flagged.unwrap_or(false),
            after: given(self.after)
                .map(|c| Cursor::decode(&c).ok_or_else(|| "after is not a page cursor".to_owned()))
                .transpose()?,
            limit: self.limit.unwrap_or(100).clamp(1, MAX_PAGE),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_fields_are_named_and_good_ones_kept() {
        let bad = |q: SearchQuery| q.check().unwrap_err();
        assert!(
            bad(SearchQuery {
                src: Some("10.0.0.x".into()),
                ..Default::default()
            })
            .starts_with("src")
        );
        assert!(
            bad(SearchQuery {
                serial: Some("-1".into()),
                ..Default::default()
            })
            .starts_with("serial")
        );
        assert!(
            bad(SearchQuery {
                kind: Some("drop table".into()),
                ..Default::default()
            })
            .starts_with("kind")
        );
        assert!(
            bad(SearchQuery {
                from: Some("yesterday".into()),
                ..Default::default()
            })
            .starts_with("from")
        );
        assert!(
            bad(SearchQuery {
                after: Some("x".into()),
                ..Default::default()
            })
            .starts_with("after")
        );
        let good = SearchQuery {
            serial: Some("18446744073709551615".into()),
            person: Some("  ".into()),
            limit: Some(10_000),
            ..Default::default()
        }
        .check()
        .unwrap();
        assert_eq!(good.serial, Some(u64::MAX));
        assert_eq!(good.person, None);
        assert_eq!(good.limit, MAX_PAGE);
        let cursor = Cursor {
            event_at: Utc::now(),
            event_id: 42,
        };
        let round = Cursor::decode(&cursor.encode()).unwrap();
        assert_eq!(round.event_id, 42);
        assert_eq!(
            round.event_at.timestamp_micros(),
            cursor.event_at.timestamp_micros()
        );
    }
}
