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
