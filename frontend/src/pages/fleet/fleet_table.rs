//! The fleet, one row per host: its health, its worst finding, how many there are, when it
//! last reported and with which agent.

use leptos::prelude::*;
use leptos_router::components::A;
use opsportal_shared::health::HostHealthSummary;

use crate::components::health_badge::{HealthBadge, health};
use crate::time;

#[component]
pub fn FleetTable(#[prop(into)] hosts: Signal<Vec<HostHealthSummary>>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table id="fleet-table" class="events">
                <thead>
                    <tr>
                        <th scope="col">"Host"</th>
                        <th scope="col">"Health"</th>
                        <th scope="col">"Worst finding"</th>
                        <th scope="col">"Findings"</th>
                        <th scope="col">"Last report"</th>
                        <th scope="col">"Agent"</th>
                    </tr>
                </thead>
                <tbody>{move || hosts.get().into_iter().map(row).collect_view()}</tbody>
            </table>
        </div>
    }
}

fn row(host: HostHealthSummary) -> impl IntoView {
    let (class, words) = health(&host);
    let dash = || "—".to_owned();
    let worst = host
        .findings
        .first()
        .map_or_else(dash, |finding| finding.title.clone());
    let counts = match (host.critical, host.warning) {
        (0, 0) => "none".to_owned(),
        (c, 0) => format!("{c} critical"),
        (0, w) => format!("{w} warning"),
        (c, w) => format!("{c} critical, {w} warning"),
    };
    let last = host.last_report_at.clone();
    let ago = last.as_deref().and_then(time::epoch_ms).map_or_else(
        || "never".to_owned(),
        |ms| time::ago(((time::now_ms() - ms) / 1000.0) as i64),
    );
    let href = format!("/admin/hosts/{}/health", host.host_id);
    let name = host.name.clone();

    view! {
        <tr class="fleet-row" data-host=host.name.clone()>
            <td class="host-name"><A href=href>{name}</A></td>
            <td><HealthBadge class words /></td>
            <td class="what">{worst}</td>
            <td>{counts}</td>
            <td>
                <time datetime=last.clone() title=last.as_deref().map(time::utc)>{ago}</time>
            </td>
            <td><code>{host.agent_version.clone().unwrap_or_else(dash)}</code></td>
        </tr>
    }
}
