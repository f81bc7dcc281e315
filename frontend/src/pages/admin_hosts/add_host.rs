//! The form that registers a host by name and the addresses its syslog comes from.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::error_note::ErrorNote;

/// Calls `on_added` with the host's name once it is registered.
#[component]
pub fn AddHost(on_added: Callback<String>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let addresses = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let host = name.get_untracked().trim().to_owned();
        if host.is_empty() {
            error.set(Some(ApiError::local("Give the host's name.")));
            return;
        }
        // Commas, spaces or one per line: however the list was pasted.
        let list: Vec<String> = addresses
            .get_untracked()
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            let result = api::add_host(host.clone(), list).await;
            busy.set(false);
            match result {
                Ok(_) => {
                    name.set(String::new());
                    addresses.set(String::new());
                    on_added.run(host);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <section class="card" aria-labelledby="add-host-title">
            <h2 id="add-host-title">"Add a host"</h2>
            <form id="add-host-form" class="filters" on:submit=submit>
                <div class="field">
                    <label for="host-name">"Name"</label>
                    <input id="host-name" type="text" autocomplete="off" spellcheck="false"
                        placeholder="e.g. web01" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="host-addresses">"Syslog source addresses"</label>
                    <input id="host-addresses" type="text" autocomplete="off" spellcheck="false"
                        placeholder="e.g. 10.0.0.5, 10.0.0.6" prop:value=move || addresses.get()
                        on:input=move |ev| addresses.set(event_target_value(&ev)) />
                </div>
                <button type="submit" id="add-host" class="primary" disabled=move || busy.get()>
                    "Add host"
                </button>
            </form>
            <p class="hint">"A host that only sends over HTTP needs no address."</p>
            <ErrorNote error />
        </section>
    }
}
