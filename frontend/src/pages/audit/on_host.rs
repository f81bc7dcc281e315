//! "Who was on this host then": the logins on one host whose connection overlapped a window,
//! for answering what a shared account did at a given time.

use leptos::prelude::*;
use leptos::task::spawn_local;
use opsportal_shared::history::LogEventView;

use crate::api::{self, ApiError};
use crate::components::attribution_badge::AttributionBadge;
use crate::components::error_note::ErrorNote;
use crate::events;
use crate::time;

/// The window offered at first: the last hour.
const DEFAULT_WINDOW_MS: f64 = 3_600_000.0;

#[component]
pub fn OnHost() -> impl IntoView {
    let now = time::now_ms();
    let host = RwSignal::new(String::new());
    let from = RwSignal::new(time::local_input(now - DEFAULT_WINDOW_MS));
    let to = RwSignal::new(time::local_input(now + 60_000.0));
    let sessions = RwSignal::new(None::<Vec<LogEventView>>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = host.get_untracked().trim().to_owned();
        let window = time::from_local_input(&from.get_untracked())
            .zip(time::from_local_input(&to.get_untracked()));
        let (from, to) = match (name.is_empty(), window) {
            (false, Some(window)) => window,
            (true, _) => return error.set(Some(ApiError::local("Name the host."))),
            (false, None) => {
                return error.set(Some(ApiError::local("Give the start and the end.")));
            }
        };
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            let result = api::sessions_on_host(name, from, to).await;
            busy.set(false);
            match result {
                Ok(found) => sessions.set(Some(found)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let input = move |field: RwSignal<String>| {
        move |ev: leptos::ev::Event| field.set(event_target_value(&ev))
    };
    let results = move || {
        sessions.get().map(|found| {
            if found.is_empty() {
                return view! { <p id="onhost-empty" class="muted">"Nobody was logged in then."</p> }
                .into_any();
            }
            let rows: Vec<_> = found.into_iter().map(session_row).collect();
            view! {
                <div class="table-wrap">
                    <table id="onhost-table" class="events">
                        <thead>
                            <tr>
                                <th scope="col">"Person"</th>
                                <th scope="col">"Attribution"</th>
                                <th scope="col">"Account"</th>
                                <th scope="col">"From"</th>
                                <th scope="col">"Logged in"</th>
                                <th scope="col">"Session"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }
            .into_any()
        })
    };

    view! {
        <section class="card" aria-labelledby="onhost-title">
            <h2 id="onhost-title">"Who was on a host"</h2>
            <form id="onhost-form" class="filters" on:submit=submit>
                <div class="field">
                    <label for="onhost-host">"Host"</label>
                    <input id="onhost-host" type="search" autocomplete="off" spellcheck="false"
                        placeholder="e.g. web01" prop:value=move || host.get()
                        on:input=input(host) />
                </div>
                <div class="field">
                    <label for="onhost-from">"Between"</label>
                    <input id="onhost-from" type="datetime-local" prop:value=move || from.get()
                        on:input=input(from) />
                </div>
                <div class="field">
                    <label for="onhost-to">"And"</label>
                    <input id="onhost-to" type="datetime-local" prop:value=move || to.get()
                        on:input=input(to) />
                </div>
                <button type="submit" id="onhost-search" class="primary"
                    disabled=move || busy.get()>"Show who"</button>
            </form>
            <ErrorNote error />
            {results}
        </section>
    }
}

fn session_row(event: LogEventView) -> impl IntoView {
    let dash = || "—".to_owned();
    view! {
        <tr class="session-row" class:flagged=event.flagged>
            <td class="person">{event.person.clone().unwrap_or_else(dash)}</td>
            <td><AttributionBadge attribution=event.attribution.clone() /></td>
            <td class="account"><code>{event.username.clone().unwrap_or_else(dash)}</code></td>
            <td class="source"><code>{events::source(&event).unwrap_or_else(dash)}</code></td>
            <td>
                <time datetime=event.event_at.clone() title=time::utc(&event.event_at)>
                    {time::local_seconds(&event.event_at)}
                </time>
            </td>
            <td class="session">{events::session(&event).unwrap_or_default()}</td>
        </tr>
    }
}
