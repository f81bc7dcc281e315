//! Rows of `log_event` in the text format of PostgreSQL's `COPY … FROM STDIN`.
//!
//! COPY costs the database about a quarter of what a multi-row `INSERT … SELECT FROM unnest`
//! of the same rows costs it, so batches are written this way. The text format is one line per
//! row, columns separated by tabs, `\N` for NULL, and backslash, tab, newline and carriage
//! return escaped with a backslash. PostgreSQL text cannot hold a NUL character at all; one
//! in a received line (attacker-controlled text may carry anything) is stored as U+FFFD,
//! the replacement character, so that the line is kept rather than the whole batch refused.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::event::EventRow;

/// The `COPY` statement whose columns [`encode`] writes, in this order.
pub const STATEMENT: &str = "copy log_event (received_at, event_at, host_id, transport,
    claimed_hostname, program, pid, kind, username, src_ip, src_port, method, key_type,
    key_fingerprint, key_id, serial, ca_fingerprint, certificate_id, person, attribution,
    reason, skew_secs, flags, raw) from stdin";

/// Appends one line per row to `out`.
pub fn encode(rows: &[&EventRow], out: &mut String) {
    for row in rows {
        encode_row(row, out);
    }
}

fn encode_row(row: &EventRow, out: &mut String) {
    let mut line = Line::new(out);
    line.time(row.received_at);
    line.time(row.event_at);
    line.number(Some(row.host_id));
    line.text(Some(row.transport.as_str()));
    line.text(row.claimed_hostname.as_deref());
    line.text(row.program.as_deref());
    line.number(row.pid);
    line.text(Some(row.kind));
    line.text(row.username.as_deref());
    line.number(row.src_ip);
    line.number(row.src_port);
    line.text(row.method.as_deref());
    line.text(row.key_type.as_deref());
    line.text(row.key_fingerprint.as_deref());
    line.text(row.key_id.as_deref());
    line.number(row.serial);
    line.text(row.ca_fingerprint.as_deref());
    line.number(row.certificate_id);
    line.text(row.person.as_deref());
    line.text(row.attribution);
    line.text(row.reason.as_deref());
    line.number(row.skew_secs);
    line.array(&row.flags);
    line.text(Some(&row.raw));
    line.end();
}

/// One row being written: puts the tab between columns and the newline at the end.
struct Line<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Line<'a> {
    fn new(out: &'a mut String) -> Self {
        Self { out, first: true }
    }

    fn next_column(&mut self) {
        if !self.first {
            self.out.push('\t');
        }
        self.first = false;
    }

    fn time(&mut self, at: DateTime<Utc>) {
        self.next_column();
        let _ = write!(self.out, "{}", at.format("%Y-%m-%d %H:%M:%S%.6f+00"));
    }

    /// Numbers and addresses, whose text needs no escaping.
    fn number(&mut self, value: Option<impl std::fmt::Display>) {
        self.next_column();
        match value {
            Some(value) => {
                let _ = write!(self.out, "{value}");
            }
            None => self.out.push_str("\\N"),
        }
    }

    fn text(&mut self, value: Option<&str>) {
        self.next_column();
        match value {
            Some(value) => escape_into(value, self.out),
            None => self.out.push_str("\\N"),
        }
    }

    /// A `text[]` column: an array literal, every element quoted, then escaped for COPY.
    fn array(&mut self, values: &[String]) {
        self.next_column();
        let mut literal = String::from("{");
        for (n, value) in values.iter().enumerate() {
            if n > 0 {
                literal.push(',');
            }
            literal.push('"');
            for c in value.chars() {
                if matches!(c, '"' | '\\') {
                    literal.push('\\');
                }
                literal.push(c);
            }
            literal.push('"');
        }
        literal.push('}');
        escape_into(&literal, self.out);
    }

    fn end(self) {
        self.out.push('\n');
    }
}

fn escape_into(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push(char::REPLACEMENT_CHARACTER),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped_and_nul_is_replaced() {
        let mut out = String::new();
        escape_into("a\\b\tc\nd\re\0f", &mut out);
        assert_eq!(out, "a\\\\b\\tc\\nd\\re\u{fffd}f");
    }

    #[test]
    fn columns_are_tab_separated_with_null_and_arrays() {
        let mut out = String::new();
        let mut line = Line::new(&mut out);
        line.number(Some(7));
        line.number(None::<i64>);
        line.text(Some("x y"));
        line.array(&["one".into(), "two \"2\"".into()]);
        line.array(&[]);
        line.time(DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap());
        line.end();
        assert_eq!(
            out,
            "7\t\\N\tx y\t{\"one\",\"two \\\\\"2\\\\\"\"}\t{}\t2023-11-14 22:13:20.123456+00\n"
        );
    }
}
