//! The syslog header parser against arbitrary bytes, under several receiver zones.
//!
//! Checked for every input:
//! - `invalid_utf8` is set exactly when the bytes are not UTF-8;
//! - a message is `Unparsed` exactly when it has a parse error, and then its message is the
//!   whole line (the lossy text without a leading BOM and trailing CR/LF) and no header field
//!   is set;
//! - a parsed message is a piece of the lossy text, its facility is at most 23 and its severity
//!   at most 7, and it has a priority or a timestamp;
//! - timestamps are UTC instants: parsing under another zone changes nothing but the
//!   timestamp, and that only by the difference of the zones (a timestamp without a zone) or
//!   not at all (one with its own offset).
#![no_main]

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use opsportal_logparse::syslog::{self, Format, Syslog};

/// Checks what holds for one parse on its own.
fn check_alone(bytes: &[u8], parsed: &Syslog) {
    let lossy = String::from_utf8_lossy(bytes);
    assert_eq!(parsed.invalid_utf8, std::str::from_utf8(bytes).is_err());
    assert_eq!(
        parsed.format == Format::Unparsed,
        parsed.parse_error.is_some(),
        "{parsed:?}"
    );
    if parsed.format == Format::Unparsed {
        let line = lossy
            .trim_start_matches('\u{feff}')
            .trim_end_matches(['\r', '\n']);
        assert_eq!(parsed.message, line);
        assert_eq!(
            (parsed.facility, parsed.severity, parsed.timestamp),
            (None, None, None)
        );
        assert_eq!(
            (&parsed.hostname, &parsed.app_name, &parsed.proc_id),
            (&None, &None, &None)
        );
        return;
    }
    assert!(lossy.contains(parsed.message.as_str()), "{parsed:?}");
    assert!(parsed.facility.is_none_or(|f| f <= 23), "{parsed:?}");
    assert!(parsed.severity.is_none_or(|s| s <= 7), "{parsed:?}");
    assert_eq!(parsed.facility.is_some(), parsed.severity.is_some());
    assert!(parsed.facility.is_some() || parsed.timestamp.is_some());
}

/// Checks that a parse under `zone` differs from one under UTC only in a zoneless timestamp.
fn check_zone(utc: &Syslog, zoned: &Syslog, zone: FixedOffset) {
    let without_time = |s: &Syslog| Syslog {
        timestamp: None,
        ..s.clone()
    };
    assert_eq!(without_time(utc), without_time(zoned), "under {zone}");
    match (utc.timestamp, zoned.timestamp) {
        (None, None) => {}
        (Some(a), Some(b)) => {
            let moved = (a - b).num_seconds();
            assert!(
                moved == 0 || moved == i64::from(zone.local_minus_utc()),
                "{a} under UTC, {b} under {zone}"
            );
        }
        (a, b) => panic!("{a:?} under UTC, {b:?} under {zone}"),
    }
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("a valid date")
}

fuzz_target!(|data: &[u8]| {
    // Mid-month, so that every zone below agrees on the month the line arrived in.
    let received = at(2026, 6, 15, 12);
    let utc = syslog::parse(data, received, syslog::utc());
    check_alone(data, &utc);
    for minutes in [330, -600] {
        let zone = syslog::zone_from_minutes(minutes).expect("a valid zone");
        let zoned = syslog::parse(data, received, zone);
        check_alone(data, &zoned);
        check_zone(&utc, &zoned, zone);
    }

    // A new year's first minutes, where the nearest year of an undated line is in question.
    let new_year = syslog::parse(data, at(2027, 1, 1, 0), syslog::utc());
    check_alone(data, &new_year);
});
