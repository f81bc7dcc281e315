//! How a host is doing, as a coloured label: critical, warning, ok, or no reports yet.

use leptos::prelude::*;
use opsportal_shared::health::{HostHealthSummary, Severity};

/// The badge's class and words for `host`.
pub fn health(host: &HostHealthSummary) -> (&'static str, &'static str) {
    match (host.worst, &host.last_report_at) {
        (Some(Severity::Critical), _) => ("critical", "critical"),
        (Some(Severity::Warning), _) => ("warning", "warning"),
        (None, Some(_)) => ("ok", "ok"),
        (None, None) => ("silent", "no reports"),
    }
}

#[component]
pub fn HealthBadge(class: &'static str, words: &'static str) -> impl IntoView {
    view! { <span class=format!("health-badge {class}")>{words}</span> }
}

/// The class and words of one finding's severity.
pub fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
    }
}
