//! A refused login in plain words, from sshd's reason and the certificate the portal issued.

use super::query::EventRow;

/// The sentence shown beside a failure, when there is something to say.
pub fn explain(row: &EventRow) -> Option<String> {
    let reason = row.reason.as_deref().unwrap_or_default();
    let is_refusal = matches!(
        row.kind.as_str(),
        "failed" | "certificate_invalid" | "no_authorized_principal" | "key_revoked"
    );
    if !is_refusal {
        return None;
    }
    if reason == "revoked" || row.cert_revoked_at.is_some_and(|at| at <= row.event_at) {
        return Some("The certificate or its key was revoked.".into());
    }
    if reason == "expired"
        || row
            .cert_valid_before
            .is_some_and(|before| before <= row.event_at)
    {
        return Some(match row.cert_valid_before {
            Some(before) => format!(
                "The certificate had expired {} before this attempt.",
                ago(row.event_at - before)
            ),
            None => "The certificate had expired.".into(),
        });
    }
    // Only sshd's word counts: a line dated before its certificate may also have been sent
    // late. The event's time is the host's own clock, the certificate's the signer's.
    if reason == "not yet valid" {
        return Some(match row.cert_valid_after {
            Some(after) if after > row.event_at => format!(
                "The certificate was not yet valid on the host: it starts {} after the host's \
                 clock at this attempt. The host's clock is behind; check NTP on the host.",
                ago(after - row.event_at)
            ),
            _ => "The certificate was not yet valid on the host: its clock may be behind; \
                  check NTP on the host."
                .into(),
        });
    }
    if reason == "no authorized principal" || reason.contains("not a listed principal") {
        let held = row
            .cert_principals
            .as_ref()
            .map(|p| p.join(", "))
            .unwrap_or_else(|| "its principals".into());
        return Some(format!(
            "The certificate ({held}) lacks a principal this host accepts for {}.",
            row.username.as_deref().unwrap_or("this account")
        ));
    }
    match row.kind.as_str() {
        "failed" if row.method.as_deref() == Some("password") => {
            Some("A password was tried and refused.".into())
        }
        "failed" => Some("The key was refused by the host.".into()),
        _ => None,
    }
}

fn ago(delta: chrono::TimeDelta) -> String {
    let minutes = delta.num_minutes();
    match minutes {
        ..=0 => format!("{} seconds", delta.num_seconds().max(0)),
        1 => "1 minute".into(),
        2..=119 => format!("{minutes} minutes"),
        _ => format!("{} hours", minutes / 60),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeDelta, Utc};

    use super::*;

    fn refusal(reason: &str, at: DateTime<Utc>) -> EventRow {
        EventRow {
            event_id: 1,
            event_at: at,
            received_at: at,
            host: "web01".into(),
            kind: "failed".into(),
            username: Some("root".into()),
            src_ip: Some("192.0.2.7".into()),
            src_port: Some(50000),
            method: Some("publickey".into()),
            key_type: Some("ED25519-CERT".into()),
            key_fingerprint: None,
            key_id: None,
            serial: None,
            ca_fingerprint: None,
            certificate_id: None,
            person: None,
            attribution: None,
            reason: Some(reason.into()),
            skew_secs: None,
            flags: Vec::new(),
            raw: String::new(),
            cert_valid_after: None,
            cert_valid_before: None,
            cert_principals: None,
            cert_revoked_at: None,
            ended_at: None,
            failures_before: None,
        }
    }

    #[test]
    fn a_certificate_not_yet_valid_on_the_host_says_by_how_much_its_clock_lags() {
        let at = Utc::now();
        let mut row = refusal("not yet valid", at);
        row.cert_valid_after = Some(at + TimeDelta::seconds(60));
        row.cert_valid_before = Some(at + TimeDelta::hours(1));
        let text = explain(&row).unwrap();
        assert!(text.contains("not yet valid on the host"), "{text}");
        assert!(text.contains("starts 1 minute after"), "{text}");
        assert!(text.contains("check NTP on the host"), "{text}");

        let unknown = explain(&refusal("not yet valid", at)).unwrap();
        assert!(unknown.contains("its clock may be behind"), "{unknown}");
    }

    #[test]
    fn a_line_dated_before_its_certificate_is_not_blamed_on_the_clock_unless_sshd_says_so() {
        // A line sent late carries an early time too; only sshd's reason tells the two apart.
        let at = Utc::now() - TimeDelta::minutes(30);
        let mut row = refusal("", at);
        row.reason = None;
        row.cert_valid_after = Some(at + TimeDelta::minutes(29));
        assert_eq!(
            explain(&row).as_deref(),
            Some("The key was refused by the host.")
        );
    }

    #[test]
    fn an_expired_certificate_is_not_taken_for_a_lagging_clock() {
        let at = Utc::now();
        let mut row = refusal("expired", at);
        row.cert_valid_after = Some(at - TimeDelta::hours(2));
        row.cert_valid_before = Some(at - TimeDelta::minutes(5));
        let text = explain(&row).unwrap();
        assert!(text.contains("expired 5 minutes before"), "{text}");
    }
}
