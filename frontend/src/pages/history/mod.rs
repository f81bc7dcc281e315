//! `/history`: the signed-in person's own logins, refusals and sessions, as the hosts logged
//! them, newest first; then the certificates the portal issued them.

mod filters;
mod issued;

use leptos::prelude::*;
use leptos::task::spawn_local;
use opsportal_shared::history::LogEventView;

use self::filters::HistoryFilters;
use self::issued::IssuedCertificates;
use crate::api::{self, ApiError, EventQuery};
use crate::components::error_note::ErrorNote;
use crate::components::event_table::EventTable;
use crate::components::signed_in::SignedIn;

/// Events fetched at once; "Load more" fetches the next as many.
const PAGE: u32 = 50;

#[component]
pub fn HistoryPage() -> impl IntoView {
    view! { <SignedIn page=|_| view! { <History /> } /> }
}

#[component]
fn History() -> impl IntoView {
    let filter = RwSignal::new(EventQuery {
        limit: PAGE,
        ..EventQuery::default()
    });
    let events = RwSignal::new(Vec::<LogEventView>::new());
    let next = RwSignal::new(None::<String>);
    let loaded = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    // Only the latest request may fill the table: an answer for filters changed since is late.
    let latest = StoredValue::new(0_u64);

    let load = move |query: EventQuery| {
        let append = query.after.is_some();
        let request = latest.get_value() + 1;
        latest.set_value(request);
        busy.set(true);
        spawn_local(async move {
            let result = api::my_history(query).await;
            if latest.get_value() != request {
                return;
            }
            busy.set(false);
            match result {
                Ok(page) => {
                    error.set(None);
                    if append {
                        events.update(|shown| shown.extend(page.events));
                    } else {
                        events.set(page.events);
                    }
                    next.set(page.next);
                    loaded.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    Effect::new(move |_| load(filter.get()));
    let more = move |_| {
        if let Some(after) = next.get_untracked() {
            load(EventQuery {
                after: Some(after),
                ..filter.get_untracked()
            });
        }
    };

    let empty = move || {
        (loaded.get() && events.with(Vec::is_empty)).then(|| {
            let narrowed = filter.with(|f| !f.filters().is_empty());
            let text = if narrowed {
                "Nothing matches these filters."
            } else {
                "Nothing recorded yet: your logins appear here once the servers send their logs."
            };
            view! { <p id="history-empty" class="muted">{text}</p> }
        })
    };
    let more_button = move || {
        next.get().is_some().then(|| {
            view! {
                <button type="button" id="history-more" class="secondary"
                    disabled=move || busy.get() on:click=more>"Load more"</button>
            }
        })
    };

    view! {
        <section class="card" aria-labelledby="history-title">
            <h1 id="history-title">"My history"</h1>
            <p class="lead">
                "Your logins on servers, the refusals and how long each session lasted, as the "
                "servers logged them. Times are yours; hover one for UTC."
            </p>
            <HistoryFilters filter />
            <ErrorNote error />
            <EventTable id="history-table" rows=events />
            {empty}
            <div class="actions">{more_button}</div>
        </section>
        <IssuedCertificates />
    }
}
