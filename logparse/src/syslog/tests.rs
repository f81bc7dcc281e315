use chrono::TimeZone;

use super::*;

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

#[test]
fn rfc5424_from_rsyslog_keeps_header_fields_and_utc_time() {
    let line = b"<38>1 2026-12-04T09:15:02.123456+05:30 web01 sshd 4242 - - Accepted publickey for root from 127.0.0.1 port 35000 ssh2\n";
    let s = parse(line, at(2026, 12, 4), utc());
    assert_eq!(s.format, Format::Rfc5424);
    assert_eq!((s.facility, s.severity), (Some(4), Some(6)));
    assert_eq!(s.hostname.as_deref(), Some("web01"));
    assert_eq!(s.app_name.as_deref(), Some("sshd"));
    assert_eq!(s.pid(), Some(4242));
    assert_eq!(
        s.timestamp.unwrap().to_rfc3339(),
        "2026-12-04T03:45:02.123456+00:00"
    );
    assert!(s.message.starts_with("Accepted publickey for root"));
    assert_eq!(s.parse_error, None);
}

#[test]
fn rfc3164_takes_the_configured_zone_and_the_nearest_year() {
    let line =
        b"<86>Dec 31 23:59:58 web01 sshd[77]: Connection closed by 10.0.0.1 port 4 [preauth]";
    let zone = zone_from_minutes(60).unwrap();
    let s = parse(line, at(2027, 1, 1), zone);
    assert_eq!(s.format, Format::Rfc3164);
    assert_eq!(s.pid(), Some(77));
    assert_eq!(s.app_name.as_deref(), Some("sshd"));
    assert_eq!(
        s.timestamp.unwrap().to_rfc3339(),
        "2026-12-31T22:59:58+00:00",
        "last year's December, an hour east of UTC"
    );
    let early = parse(b"<86>Jan  1 00:00:01 h sshd[1]: x", at(2026, 12, 31), utc());
    assert_eq!(early.timestamp.unwrap().year(), 2027);
}

#[test]
fn a_broken_priority_keeps_the_whole_line_as_the_message() {
    for line in [
        "<999>1 2026-12-04T00:00:00Z h a - - - m",
        "<>x",
        "<34 no close",
        "<0034>y",
    ] {
        let s = parse(line.as_bytes(), at(2026, 12, 4), utc());
        assert_eq!(s.format, Format::Unparsed, "{line}");
        assert_eq!(s.parse_error, Some(ParseError::BadPriority), "{line}");
        assert_eq!(s.message, line);
    }
}

#[test]
fn text_without_a_header_is_kept_raw() {
    let s = parse(b"just some words", at(2026, 12, 4), utc());
    assert_eq!(s.format, Format::Unparsed);
    assert_eq!(s.parse_error, Some(ParseError::NoHeader));
    assert_eq!(s.message, "just some words");
}

#[test]
fn invalid_utf8_is_replaced_and_marked() {
    let mut line =
        b"\xef\xbb\xbf<38>1 2026-12-04T00:00:00Z h sshd 1 - - bad \xff\xfe name".to_vec();
    line.push(b'\n');
    let s = parse(&line, at(2026, 12, 4), utc());
    assert!(s.invalid_utf8);
    assert_eq!(s.format, Format::Rfc5424);
    assert!(s.message.contains('\u{fffd}'));
}

#[test]
fn structured_data_with_escapes_does_not_leak_into_the_message() {
    let line = br#"<38>1 2026-12-04T00:00:00Z h sshd 1 - [x a="b\]c"] hello"#;
    let s = parse(line, at(2026, 12, 4), utc());
    assert_eq!(s.format, Format::Rfc5424);
    assert_eq!(s.message, "hello");
}

#[test]
fn arbitrary_bytes_never_panic() {
    const ALPHABET: &[u8] = b"<>1 -[]=\"\\:abcZT0123456789\xff\n";
    let mut seed = 0x2545_f491_u32;
    for len in 0..400 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                ALPHABET[seed as usize % ALPHABET.len()]
            })
            .collect();
        let s = parse(&bytes, at(2026, 12, 4), utc());
        assert!(s.format == Format::Unparsed || s.parse_error.is_none());
    }
}
