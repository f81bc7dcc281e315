//! Times and durations in words: the API's RFC 3339 strings as local times, lifetimes, the
//! time left before a certificate expires, how long ago something was, chart labels, and the
//! values of `datetime-local` inputs.

use js_sys::Date;

/// Milliseconds since the epoch of an RFC 3339 time, or `None` when it cannot be read.
pub fn epoch_ms(rfc3339: &str) -> Option<f64> {
    let ms = Date::parse(&with_millis(rfc3339));
    (!ms.is_nan()).then_some(ms)
}

/// An RFC 3339 time as `2025-03-14 09:26` in the browser's time zone; the text as it is when it
/// cannot be read.
pub fn local(rfc3339: &str) -> String {
    epoch_ms(rfc3339).map_or_else(|| rfc3339.to_owned(), |ms| local_parts(ms, ' ', false))
}

/// Like [`local`] with the seconds, which tell apart the lines of one connection.
pub fn local_seconds(rfc3339: &str) -> String {
    epoch_ms(rfc3339).map_or_else(|| rfc3339.to_owned(), |ms| local_parts(ms, ' ', true))
}

/// An RFC 3339 time as `2025-03-14 08:26:53 UTC`, for a tooltip beside the local time.
pub fn utc(rfc3339: &str) -> String {
    let Some(ms) = epoch_ms(rfc3339) else {
        return rfc3339.to_owned();
    };
    let iso = String::from(Date::new(&ms.into()).to_iso_string());
    format!("{} {} UTC", &iso[..10], &iso[11..19])
}

/// The value of a `datetime-local` input (`2025-03-14T09:26`, in the browser's time zone) as
/// RFC 3339 in UTC; `None` when it is empty or cannot be read.
pub fn from_local_input(value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    // A date and time without an offset is local time to `Date.parse` (ECMA-262, Date Time
    // String Format), which is what the input holds.
    let ms = Date::parse(value);
    (!ms.is_nan()).then(|| Date::new(&ms.into()).to_iso_string().into())
}

/// `ms` since the epoch as a `datetime-local` input's value, in the browser's time zone.
pub fn local_input(ms: f64) -> String {
    local_parts(ms, 'T', false)
}

/// `ms` since the epoch as RFC 3339 in UTC, as the API takes times.
pub fn rfc3339(ms: f64) -> String {
    Date::new(&ms.into()).to_iso_string().into()
}

/// The current time, in milliseconds since the epoch.
pub fn now_ms() -> f64 {
    Date::now()
}

/// Seconds the browser's time zone is east of UTC, now.
pub fn offset_secs() -> i64 {
    // `getTimezoneOffset` counts minutes west of UTC.
    -(Date::new_0().get_timezone_offset() as i64) * 60
}

/// `secs` since the epoch as `09:26` local time, for a chart's time axis.
pub fn clock(secs: i64) -> String {
    let date = Date::new(&(secs as f64 * 1000.0).into());
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

/// `secs` since the epoch as `12-04` (month and day) local time, for a chart spanning days.
pub fn day(secs: i64) -> String {
    let date = Date::new(&(secs as f64 * 1000.0).into());
    format!("{:02}-{:02}", date.get_month() + 1, date.get_date())
}

/// `40 s ago`, `5 min ago`, `3 h ago`, `2 days ago`: how long ago something was, roughly.
pub fn ago(secs: i64) -> String {
    match secs.max(0) {
        s if s < 60 => format!("{s} s ago"),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s if s < 2 * 86_400 => "1 day ago".to_owned(),
        s => format!("{} days ago", s / 86_400),
    }
}

fn local_parts(ms: f64, separator: char, seconds: bool) -> String {
    let date = Date::new(&ms.into());
    let minutes = format!(
        "{}-{:02}-{:02}{separator}{:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    );
    if seconds {
        format!("{minutes}:{:02}", date.get_seconds())
    } else {
        minutes
    }
}

/// `900` → `15 min`, `3600` → `1 h`, `5400` → `90 min`, `86400` → `1 day`.
pub fn lifetime(secs: u64) -> String {
    const DAY: u64 = 86_400;
    match secs {
        DAY => "1 day".to_owned(),
        s if s > DAY && s.is_multiple_of(DAY) => format!("{} days", s / DAY),
        s if s >= 3600 && s.is_multiple_of(3600) => format!("{} h", s / 3600),
        s if s >= 60 && s.is_multiple_of(60) => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// `expires in 59 min 58 s` while `remaining_ms` is left, `expired` after.
pub fn countdown(remaining_ms: f64) -> String {
    if remaining_ms <= 0.0 {
        return "expired".to_owned();
    }
    // Whole seconds left, rounded down so that the text never promises more time than there is.
    let total = (remaining_ms / 1000.0) as u64;
    let (days, hours, minutes, seconds) = (
        total / 86_400,
        total % 86_400 / 3600,
        total % 3600 / 60,
        total % 60,
    );
    let left = if days > 0 {
        format!("{days} d {hours} h {minutes} min")
    } else if hours > 0 {
        format!("{hours} h {minutes} min {seconds} s")
    } else if minutes > 0 {
        format!("{minutes} min {seconds} s")
    } else {
        format!("{seconds} s")
    };
    format!("expires in {left}")
}

/// Cuts fractional seconds to milliseconds: the server writes up to nine digits, and only three
/// are part of the format `Date.parse` must understand.
fn with_millis(rfc3339: &str) -> String {
    let Some(dot) = rfc3339.find('.') else {
        return rfc3339.to_owned();
    };
    let digits = rfc3339[dot + 1..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let kept = digits.min(3);
    format!(
        "{}{}",
        &rfc3339[..dot + 1 + kept],
        &rfc3339[dot + 1 + digits..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_read_as_people_say_them() {
        assert_eq!(lifetime(900), "15 min");
        assert_eq!(lifetime(3600), "1 h");
        assert_eq!(lifetime(5400), "90 min");
        assert_eq!(lifetime(86_400), "1 day");
        assert_eq!(lifetime(7 * 86_400), "7 days");
        assert_eq!(lifetime(45), "45 s");
    }

    #[test]
    fn the_countdown_rounds_down_and_ends_in_expired() {
        assert_eq!(countdown(3_598_400.0), "expires in 59 min 58 s");
        assert_eq!(countdown(3_600_000.0), "expires in 1 h 0 min 0 s");
        assert_eq!(countdown(90_061_000.0), "expires in 1 d 1 h 1 min");
        assert_eq!(countdown(999.0), "expires in 0 s");
        assert_eq!(countdown(0.0), "expired");
        assert_eq!(countdown(-5.0), "expired");
    }

    #[test]
    fn ages_are_rounded_down_to_one_unit() {
        assert_eq!(ago(-3), "0 s ago");
        assert_eq!(ago(42), "42 s ago");
        assert_eq!(ago(60), "1 min ago");
        assert_eq!(ago(3599), "59 min ago");
        assert_eq!(ago(7200), "2 h ago");
        assert_eq!(ago(86_400), "1 day ago");
        assert_eq!(ago(5 * 86_400 + 10), "5 days ago");
    }

    #[test]
    fn fractions_are_cut_to_milliseconds() {
        assert_eq!(
            with_millis("2025-03-14T09:26:53.123456789+00:00"),
            "2025-03-14T09:26:53.123+00:00"
        );
        assert_eq!(
            with_millis("2025-03-14T09:26:53.5Z"),
            "2025-03-14T09:26:53.5Z"
        );
        assert_eq!(
            with_millis("2025-03-14T09:26:53+00:00"),
            "2025-03-14T09:26:53+00:00"
        );
    }
}
