//! One log event as a table row. Everything in it came from a host's log line, so all of it is
//! set as text, never as markup: a user name or Key ID may hold anything.

use leptos::prelude::*;
use opsportal_shared::history::LogEventView;

use crate::components::attribution_badge::AttributionBadge;
use crate::events;
use crate::time;

#[component]
pub fn EventRow(
    event: LogEventView,
    audit: bool,
    on_person: Option<Callback<String>>,
) -> impl IntoView {
    let dash = || "—".to_owned();
    let explanation = event
        .explanation
        .clone()
        .map(|text| view! { <span class="explanation">{text}</span> });
    let skew = event
        .skew_secs
        .map(|secs| view! { <span class="explanation">{events::skew(secs)}</span> });
    let raw = audit.then(|| {
        view! {
            <details class="raw">
                <summary>"Line"</summary>
                <code>{event.raw.clone()}</code>
            </details>
        }
    });
    let person = event.person.clone();
    let audit_cells = audit.then(|| {
        let person = match (person, on_person) {
            (Some(name), Some(on_person)) => {
                let label = format!("Show the timeline of {name}");
                let chosen = name.clone();
                view! {
                    <button type="button" class="link-button person-link" title=label
                        on:click=move |_| on_person.run(chosen.clone())>{name}</button>
                }
                .into_any()
            }
            (Some(name), None) => view! { <span>{name}</span> }.into_any(),
            (None, _) => view! { <span class="muted">"—"</span> }.into_any(),
        };
        view! {
            <td class="person">{person}</td>
            <td><AttributionBadge attribution=event.attribution.clone() /></td>
        }
    });

    view! {
        <tr class="event-row" class:flagged=event.flagged data-id=event.id.to_string()>
            <td>
                <time datetime=event.event_at.clone() title=time::utc(&event.event_at)>
                    {time::local_seconds(&event.event_at)}
                </time>
            </td>
            <td class="host">{event.host.clone()}</td>
            <td class="what">
                <span class="what-words">{events::what(&event.kind).to_owned()}</span>
                {explanation}
                {skew}
                {raw}
            </td>
            {audit_cells}
            <td class="account"><code>{event.username.clone().unwrap_or_else(dash)}</code></td>
            <td class="source"><code>{events::source(&event).unwrap_or_else(dash)}</code></td>
            <td><code>{event.serial.clone().unwrap_or_else(dash)}</code></td>
            <td class="session">{events::session(&event).unwrap_or_default()}</td>
        </tr>
    }
}
