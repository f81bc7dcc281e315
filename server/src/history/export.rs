//! Search results as CSV or NDJSON files.
//!
//! CSV cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a
//! tab or a carriage return) are prefixed with `'`: user names and Key IDs in sshd's lines
//! are chosen by whoever connected.

use opsportal_shared::history::LogEventView;

pub const CSV_HEADER: &str = "event_at,received_at,host,kind,person,attribution,flagged,username,\
src_ip,src_port,method,key_type,key_fingerprint,key_id,serial,ca_fingerprint,reason,\
explanation,raw\n";

/// One event as a CSV record, newline included.
pub fn csv_record(event: &LogEventView) -> String {
    let port = event.src_port.map(|p| p.to_string());
    let cells: [Option<&str>; 19] = [
        Some(&event.event_at),
        Some(&event.received_at),
        Some(&event.host),
        Some(&event.kind),
        event.person.as_deref(),
        event.attribution.as_deref(),
        Some(if event.flagged { "true" } else { "false" }),
        event.username.as_deref(),
        event.src_ip.as_deref(),
        port.as_deref(),
        event.method.as_deref(),
        event.key_type.as_deref(),
        event.key_fingerprint.as_deref(),
        event.key_id.as_deref(),
        event.serial.as_deref(),
        event.ca_fingerprint.as_deref(),
        event.reason.as_deref(),
        event.explanation.as_deref(),
        Some(&event.raw),
    ];
    let mut line = cells
        .iter()
        .map(|cell| csv_cell(cell.unwrap_or("")))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

fn csv_cell(value: &str) -> String {
    let neutral = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// One event as an NDJSON line, newline included.
pub fn ndjson_record(event: &LogEventView) -> String {
    let mut line = serde_json::to_string(event).unwrap_or_default();
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_quotes_escaped() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@sum"), "'@sum");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("root"), "root");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }
}
