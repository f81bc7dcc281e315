//! `/admin/fleet`: every host's health at a glance, worst first, for admins and auditors.
//! The list refreshes itself while it is on screen.

mod fleet_table;

use std::time::Duration;

use leptos::prelude::*;
use opsportal_shared::auth::{Me, Role};

use self::fleet_table::FleetTable;
use crate::api;
use crate::components::error_note::ErrorNote;
use crate::components::signed_in::SignedIn;
use crate::time;

/// How often the list is fetched again: agents report every 10 s, and a host counts as silent
/// only after several missed reports, so a faster refresh would show nothing new.
const REFRESH: Duration = Duration::from_secs(30);

#[component]
pub fn FleetPage() -> impl IntoView {
    view! { <SignedIn page=for_role /> }
}

fn for_role(me: Me) -> AnyView {
    if me.roles.contains(&Role::Admin) || me.roles.contains(&Role::Auditor) {
        view! { <Fleet /> }.into_any()
    } else {
        view! {
            <section class="card">
                <h1>"Fleet"</h1>
                <p id="not-allowed" class="muted">"This page is for admins and auditors."</p>
            </section>
        }
        .into_any()
    }
}

#[component]
fn Fleet() -> impl IntoView {
    let fleet = LocalResource::new(api::fleet);
    // Cleared when the page is left, so that no request runs behind another page.
    if let Ok(ticker) = set_interval_with_handle(move || fleet.refetch(), REFRESH) {
        on_cleanup(move || ticker.clear());
    }

    let view = move || fleet.get().and_then(Result::ok);
    let hosts = Signal::derive(move || view().map(|v| v.hosts).unwrap_or_default());
    let summary = move || {
        view().map(|v| {
            let at = time::local_seconds(&v.generated_at);
            match v.hosts.len() {
                0 => format!("No hosts yet. As of {at}."),
                1 => format!("1 host, as of {at}."),
                n => format!("{n} hosts, worst first, as of {at}."),
            }
        })
    };
    let error = Signal::derive(move || fleet.get().and_then(Result::err));

    view! {
        <section class="card" aria-labelledby="fleet-title">
            <h1 id="fleet-title">"Fleet"</h1>
            <p class="lead">
                "How each host is doing, from what its agent last reported. A host whose agent "
                "has gone quiet is a finding of its own."
            </p>
            <ErrorNote error />
            <p id="fleet-summary" class="muted list-summary">{summary}</p>
            <FleetTable hosts />
        </section>
    }
}
