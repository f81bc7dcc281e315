//! One syslog message's header: RFC 5424 first, RFC 3164 when that fails, raw text otherwise.
//!
//! Senders are loose about both formats, so the header is read leniently (with the parser
//! behind Vector's `parse_syslog`), while what cannot be trusted is marked rather than
//! guessed:
//! - a priority above 191 or without its closing `>` is a parse error and the whole line is
//!   kept as the message, since nothing after a broken priority can be located reliably;
//! - RFC 3164 has no year and no zone: the year is the one that puts the date nearest to when
//!   the line arrived (a December line received on 1 January is last year's), and the zone is
//!   the one the receiver is configured with;
//! - bytes that are not UTF-8 are replaced and the message is marked, never dropped.
//!
//! The HOSTNAME field is returned as data: who sent a line is known from the connection.

use chrono::{DateTime, Datelike, FixedOffset, Offset, Utc};
use syslog_loose::{IncompleteDate, ProcId, Protocol, Variant};

/// The header format a message was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rfc5424,
    Rfc3164,
    /// No header could be read; the whole line is the message.
    Unparsed,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rfc5424 => "rfc5424",
            Self::Rfc3164 => "rfc3164",
            Self::Unparsed => "unparsed",
        }
    }
}

/// Why a header was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// `<PRI>` above 191, empty, or not closed.
    BadPriority,
    /// Nothing recognisable as a syslog header.
    NoHeader,
}

impl ParseError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadPriority => "bad_priority",
            Self::NoHeader => "no_header",
        }
    }
}

/// One message with its header read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syslog {
    pub format: Format,
    pub facility: Option<u8>,
    pub severity: Option<u8>,
    /// When the sender says the event happened, in UTC.
    pub timestamp: Option<DateTime<Utc>>,
    /// The HOSTNAME field as sent; never the sender's identity.
    pub hostname: Option<String>,
    pub app_name: Option<String>,
    pub proc_id: Option<String>,
    pub message: String,
    pub parse_error: Option<ParseError>,
    /// Bytes that were not UTF-8 were replaced.
    pub invalid_utf8: bool,
}

impl Syslog {
    /// The process id, when PROCID is a number.
    pub fn pid(&self) -> Option<u32> {
        self.proc_id.as_deref()?.parse().ok()
    }
}

/// Reads one message. `received_at` settles RFC 3164's missing year, `zone` its missing zone.
pub fn parse(bytes: &[u8], received_at: DateTime<Utc>, zone: FixedOffset) -> Syslog {
    let text = String::from_utf8_lossy(bytes);
    let invalid_utf8 = matches!(text, std::borrow::Cow::Owned(_));
    let text = text.trim_start_matches('\u{feff}');
    let line = text.trim_end_matches(['\r', '\n']);

    if let Err(error) = check_priority(line) {
        return unparsed(line, error, invalid_utf8);
    }
    let local = received_at.with_timezone(&zone);
    let year = move |date: IncompleteDate| nearest_year(date, local.year(), local.month());
    let Ok(parsed) =
        syslog_loose::parse_message_with_year_exact_tz(line, year, Some(zone), Variant::Either)
    else {
        return unparsed(line, ParseError::NoHeader, invalid_utf8);
    };
    if parsed.facility.is_none() && parsed.timestamp.is_none() {
        return unparsed(line, ParseError::NoHeader, invalid_utf8);
    }
    Syslog {
        format: match parsed.protocol {
            Protocol::RFC5424(_) => Format::Rfc5424,
            Protocol::RFC3164 => Format::Rfc3164,
        },
        facility: parsed.facility.map(|f| f as u8),
        severity: parsed.severity.map(|s| s as u8),
        timestamp: parsed.timestamp.map(|t| t.with_timezone(&Utc)),
        hostname: parsed.hostname.map(str::to_owned),
        app_name: parsed.appname.map(str::to_owned),
        proc_id: parsed.procid.map(|p| match p {
            ProcId::PID(pid) => pid.to_string(),
            ProcId::Name(name) => name.to_owned(),
        }),
        message: parsed.msg.to_owned(),
        parse_error: None,
        invalid_utf8,
    }
}

fn unparsed(line: &str, error: ParseError, invalid_utf8: bool) -> Syslog {
    Syslog {
        format: Format::Unparsed,
        facility: None,
        severity: None,
        timestamp: None,
        hostname: None,
        app_name: None,
        proc_id: None,
        message: line.to_owned(),
        parse_error: Some(error),
        invalid_utf8,
    }
}

/// A priority, when present, is 1 to 3 digits and at most 191 (facility 23, severity 7).
fn check_priority(line: &str) -> Result<(), ParseError> {
    let Some(rest) = line.strip_prefix('<') else {
        return Ok(());
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 3 || rest.as_bytes().get(digits) != Some(&b'>') {
        return Err(ParseError::BadPriority);
    }
    match rest[..digits].parse::<u16>() {
        Ok(pri) if pri <= 191 => Ok(()),
        _ => Err(ParseError::BadPriority),
    }
}

/// The year that puts a month nearest the month the line arrived in: a line can be a little
/// late (last year's December arriving in January) or a little early (clocks ahead).
fn nearest_year((month, ..): IncompleteDate, year: i32, received_month: u32) -> i32 {
    let month = month as i32;
    let received = received_month as i32;
    if month - received > 6 {
        year - 1
    } else if received - month > 6 {
        year + 1
    } else {
        year
    }
}

/// Builds the zone from an offset in minutes east of UTC, as configured.
pub fn zone_from_minutes(minutes: i32) -> Option<FixedOffset> {
    FixedOffset::east_opt(minutes.checked_mul(60)?)
}

/// Utc as a [`FixedOffset`], the default zone for RFC 3164 lines.
pub fn utc() -> FixedOffset {
    Utc.fix()
}

#[cfg(test)]
mod tests;
