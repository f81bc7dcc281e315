//! A line as syslog daemons write it to a file, read into the fields the portal takes.
//!
//! rsyslog and syslog-ng write `TIMESTAMP HOSTNAME TAG: MESSAGE` to `/var/log/auth.log` and
//! `/var/log/secure`. The timestamp is traditional (`Dec  4 10:00:00`: local time, no year)
//! or RFC 3339 (`2026-12-04T10:00:00.123456+01:00`, rsyslog's `RSYSLOG_FileFormat`, Debian's
//! default since bookworm); the tag is `program[pid]`.
//!
//! The portal reads a `message` that is not a `<PRI>` syslog message as the program's own
//! text, taking program, pid, host name and time from fields of their own. So the prefix is
//! read here and `message` is the text after the tag, which is what a syslog message carries
//! as its MSG: sshd's lines are then read, tied together by pid and attributed exactly as when
//! they arrive over syslog. Traditional times are read in the agent's own zone, which the
//! host knows and the portal would have to guess; the year is the one that puts the time
//! nearest to now. A line without that shape is sent whole, as text.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeZone};

/// A file line, its prefix read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLine<'a> {
    pub timestamp: Option<DateTime<FixedOffset>>,
    pub hostname: Option<&'a str>,
    pub program: Option<&'a str>,
    pub pid: Option<u32>,
    /// The text after the tag, or the whole line when it has no tag.
    pub message: &'a str,
}

/// Reads `line`'s prefix; `now` gives the zone and the year of a traditional timestamp.
pub fn parse<'a, Tz: TimeZone>(line: &'a str, now: &DateTime<Tz>) -> FileLine<'a> {
    let whole = FileLine {
        timestamp: None,
        hostname: None,
        program: None,
        pid: None,
        message: line,
    };
    let Some((timestamp, rest)) = rfc3339(line).or_else(|| traditional(line, now)) else {
        return whole;
    };
    let Some((hostname, rest)) = rest.split_once(' ').filter(|(host, _)| !host.is_empty()) else {
        return FileLine { timestamp, ..whole };
    };
    let Some((program, pid, message)) = tag(rest) else {
        return FileLine {
            timestamp,
            hostname: Some(hostname),
            ..whole
        };
    };
    FileLine {
        timestamp,
        hostname: Some(hostname),
        program: Some(program),
        pid,
        message,
    }
}

/// `2026-12-04T10:00:00.123456+01:00 rest`.
fn rfc3339(line: &str) -> Option<(Option<DateTime<FixedOffset>>, &str)> {
    let (token, rest) = line.split_once(' ')?;
    if token.len() < 20 || token.as_bytes()[4] != b'-' || token.as_bytes()[10] != b'T' {
        return None;
    }
    let at = DateTime::parse_from_rfc3339(token).ok()?;
    Some((Some(at), rest))
}

/// `Dec  4 10:00:00 rest`, in `now`'s zone and the year nearest to it. A time that does not
/// exist in the zone (inside a daylight-saving gap) keeps the line's shape but gives no
/// timestamp, so the portal dates it when it arrives.
fn traditional<'a, Tz: TimeZone>(
    line: &'a str,
    now: &DateTime<Tz>,
) -> Option<(Option<DateTime<FixedOffset>>, &'a str)> {
    let month = month_number(line.get(..3)?)?;
    let rest = line.get(3..)?.strip_prefix(' ')?.trim_start_matches(' ');
    let (day, rest) = rest.split_once(' ')?;
    let day: u32 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let (time, rest) = rest.split_once(' ')?;
    if time.len() < 8 {
        return None;
    }
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S%.f").ok()?;
    let nearest = [now.year() - 1, now.year(), now.year() + 1]
        .into_iter()
        .filter_map(|year| NaiveDate::from_ymd_opt(year, month, day))
        .filter_map(|date| {
            now.timezone()
                .from_local_datetime(&date.and_time(time))
                .earliest()
        })
        .min_by_key(|at| (at.clone() - now.clone()).num_seconds().unsigned_abs());
    Some((nearest.map(|at| at.fixed_offset()), rest))
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    MONTHS.iter().position(|m| *m == name).map(|i| i as u32 + 1)
}

/// `program[pid]: message` or `program: message`. Tags have no spaces and are short (32
/// characters in RFC 3164; a little more is allowed).
fn tag(rest: &str) -> Option<(&str, Option<u32>, &str)> {
    let colon = rest.find(':')?;
    let tag = &rest[..colon];
    if tag.is_empty() || tag.len() > 64 || tag.contains(char::is_whitespace) {
        return None;
    }
    let message = &rest[colon + 1..];
    let message = message.strip_prefix(' ').unwrap_or(message);
    let (program, pid) = match tag.split_once('[') {
        Some((program, pid)) => (program, pid.strip_suffix(']')?.parse().ok()),
        None => (tag, None),
    };
    if program.is_empty() || program.contains(']') {
        return None;
    }
    Some((program, pid, message))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    #[test]
    fn a_traditional_line_in_the_hosts_zone() {
        let zone = FixedOffset::east_opt(3600).unwrap();
        let now = at("2026-12-04T10:30:00+01:00").with_timezone(&zone);
        let line = "Dec  4 10:00:00 web01 sshd[4242]: Accepted publickey for root from \
                    10.0.0.7 port 40001 ssh2: ED25519-CERT SHA256:abc ID x (serial 9) CA ED25519 SHA256:def";
        let parsed = parse(line, &now);
        assert_eq!(parsed.timestamp, Some(at("2026-12-04T09:00:00Z")));
        assert_eq!(parsed.hostname, Some("web01"));
        assert_eq!(parsed.program, Some("sshd"));
        assert_eq!(parsed.pid, Some(4242));
        assert!(
            parsed
                .message
                .starts_with("Accepted publickey for root from 10.0.0.7")
        );
    }

    #[test]
    fn the_year_is_the_one_nearest_now() {
        let new_year = at("2027-01-01T00:00:10Z").with_timezone(&Utc);
        let late = parse("Dec 31 23:59:58 h cron[1]: x", &new_year);
        assert_eq!(late.timestamp, Some(at("2026-12-31T23:59:58Z")));
        let early = parse("Jan  1 00:00:20 h cron[1]: x", &new_year);
        assert_eq!(early.timestamp, Some(at("2027-01-01T00:00:20Z")));
        let leap = parse("Feb 29 12:00:00 h cron[1]: x", &at("2028-03-01T00:00:00Z"));
        assert_eq!(leap.timestamp, Some(at("2028-02-29T12:00:00Z")));
    }

    #[test]
    fn an_rfc3339_line_keeps_its_own_zone_and_fraction() {
        let now = Utc::now();
        let parsed = parse(
            "2026-12-04T10:00:00.123456+01:00 web01 sshd-session[77]: Connection closed by 10.0.0.9 port 5000 [preauth]",
            &now,
        );
        assert_eq!(
            parsed.timestamp,
            Some(at("2026-12-04T10:00:00.123456+01:00"))
        );
        assert_eq!(
            (parsed.hostname, parsed.program, parsed.pid),
            (Some("web01"), Some("sshd-session"), Some(77))
        );
        assert_eq!(
            parsed.message,
            "Connection closed by 10.0.0.9 port 5000 [preauth]"
        );
    }

    #[test]
    fn tags_without_a_pid_and_messages_with_colons() {
        let now = Utc::now();
        let parsed = parse("Dec  4 10:00:00 h kernel: [  1.5] a: b", &now);
        assert_eq!((parsed.program, parsed.pid), (Some("kernel"), None));
        assert_eq!(parsed.message, "[  1.5] a: b");
        let named = parse("Dec  4 10:00:00 h sshd[abc]: x", &now);
        assert_eq!((named.program, named.pid), (Some("sshd"), None));
        let bare = parse("Dec  4 10:00:00 h sshd[1]:", &now);
        assert_eq!((bare.program, bare.message), (Some("sshd"), ""));
    }

    #[test]
    fn lines_of_another_shape_are_sent_whole() {
        let now = Utc::now();
        for line in [
            "just some text",
            "Foo  4 10:00:00 h sshd[1]: x",
            "Dec 44 10:00:00 h sshd[1]: x",
            "Dec  4 1000 h sshd[1]: x",
            "",
        ] {
            let parsed = parse(line, &now);
            assert_eq!(parsed.message, line);
            assert_eq!(parsed.timestamp, None, "{line}");
            assert_eq!(parsed.program, None, "{line}");
        }
        let untagged = parse("Dec  4 10:00:00 h last message repeated 3 times", &now);
        assert!(untagged.timestamp.is_some());
        assert_eq!(untagged.hostname, Some("h"));
        assert_eq!(untagged.program, None);
        assert_eq!(
            untagged.message, "Dec  4 10:00:00 h last message repeated 3 times",
            "a line without a tag keeps its whole text"
        );
    }
}
