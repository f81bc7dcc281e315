//! Log events in plain words: what each kind of sshd line means, where a connection came from,
//! how long a session lasted, and which attributions need a second look.

use opsportal_shared::history::LogEventView;

/// Every kind the server stores, with the words shown for it; the order of the kind filters.
///
/// The server refuses a search for any other kind; a test keeps this list to the shared one.
pub const KINDS: &[(&str, &str)] = &[
    ("accepted", "Logged in"),
    ("failed", "Refused"),
    ("invalid_user", "Unknown account"),
    ("certificate_invalid", "Certificate invalid"),
    ("no_authorized_principal", "Certificate lacks the principal"),
    ("key_revoked", "Revoked key refused"),
    ("certificate_accepted", "Certificate accepted"),
    ("disconnected", "Disconnected"),
    ("connection_closed", "Connection closed"),
    ("received_disconnect", "Client disconnected"),
    ("session_opened", "Session opened"),
    ("session_closed", "Session closed"),
    ("sshd_other", "Other sshd message"),
    ("other", "Other message"),
];

/// The words for `kind`; the kind itself when it is new to this page.
pub fn what(kind: &str) -> &str {
    KINDS
        .iter()
        .find(|(name, _)| *name == kind)
        .map_or(kind, |(_, words)| words)
}

/// `10.0.0.5:40001`, `[2001:db8::1]:22`, or the address alone when no port was logged.
pub fn source(event: &LogEventView) -> Option<String> {
    let ip = event.src_ip.as_deref()?;
    Some(match (event.src_port, ip.contains(':')) {
        (Some(port), true) => format!("[{ip}]:{port}"),
        (Some(port), false) => format!("{ip}:{port}"),
        (None, _) => ip.to_owned(),
    })
}

/// How long a login's connection lasted, `still open` while no end was logged, and how many
/// attempts failed before it; `None` for anything but a login.
pub fn session(event: &LogEventView) -> Option<String> {
    if event.kind != "accepted" {
        return None;
    }
    let lasted = match (&event.ended_at, event.duration_secs) {
        (None, _) => "still open".to_owned(),
        (Some(_), Some(secs)) => duration(secs),
        (Some(_), None) => "ended".to_owned(),
    };
    Some(match event.failures_before.unwrap_or(0) {
        0 => lasted,
        1 => format!("{lasted}, after 1 failed attempt"),
        n => format!("{lasted}, after {n} failed attempts"),
    })
}

/// `45 s`, `2 min 5 s`, `3 h 10 min`: a session's length, to the second while it is short.
pub fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// A line whose time is far from when it arrived, in words: a late line and a host clock
/// running behind look the same, so both are named.
pub fn skew(secs: i32) -> String {
    let off = duration(i64::from(secs).abs());
    if secs < 0 {
        format!("Dated {off} before it arrived: sent late, or the host's clock is behind.")
    } else {
        format!("Dated {off} after it arrived: the host's clock is ahead.")
    }
}

/// What an attribution says, for the badge's tooltip.
pub fn attribution_meaning(attribution: &str) -> &'static str {
    match attribution {
        "exact" => "The portal issued this certificate for this key.",
        "suspicious" => "The portal issued this serial, but for another key.",
        "inferred" => "Not issued by this portal; the person is read from the Key ID.",
        "unattributed" => "A certificate nobody can be named for.",
        "non_ca" => "A plain key or a password on the account, without a certificate.",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_as_plain_words() {
        let ours: Vec<&str> = KINDS.iter().map(|(kind, _)| *kind).collect();
        let mut theirs = opsportal_shared::history::EVENT_KINDS.to_vec();
        let mut sorted = ours.clone();
        sorted.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(sorted, theirs, "every stored kind has words, and no other");
        assert_eq!(what("accepted"), "Logged in");
        assert_eq!(what("failed"), "Refused");
        assert_eq!(what("invalid_user"), "Unknown account");
        assert_eq!(what("disconnected"), "Disconnected");
        assert_eq!(what("something_new"), "something_new");
    }

    #[test]
    fn durations_keep_seconds_only_while_short() {
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(120), "2 min");
        assert_eq!(duration(125), "2 min 5 s");
        assert_eq!(duration(3 * 3600 + 600 + 7), "3 h 10 min");
        assert_eq!(duration(-3), "0 s");
    }

    #[test]
    fn skew_names_both_directions() {
        assert_eq!(
            skew(-1180),
            "Dated 19 min 40 s before it arrived: sent late, or the host's clock is behind."
        );
        assert_eq!(
            skew(600),
            "Dated 10 min after it arrived: the host's clock is ahead."
        );
    }
}
