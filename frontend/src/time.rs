//! Times and durations in words: the API's RFC 3339 strings as local times, lifetimes and the
//! time left before a certificate expires.

use js_sys::Date;

/// Milliseconds since the epoch of an RFC 3339 time, or `None` when it cannot be read.
pub fn epoch_ms(rfc3339: &str) -> Option<f64> {
    let ms = Date::parse(&with_millis(rfc3339));
    (!ms.is_nan()).then_some(ms)
}

/// An RFC 3339 time as `2025-03-14 09:26` in the browser's time zone; the text as it is when it
/// cannot be read.
pub fn local(rfc3339: &str) -> String {
    let Some(ms) = epoch_ms(rfc3339) else {
        return rfc3339.to_owned();
    };
    let date = Date::new(&ms.into());
    format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    )
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
