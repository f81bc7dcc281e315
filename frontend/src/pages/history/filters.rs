//! The filters above a person's history: what happened, on which host, and when.

use leptos::prelude::*;

use crate::api::EventQuery;
use crate::events::KINDS;
use crate::time;

/// Writes the filters into `filter` when a field is changed or the form is sent.
#[component]
pub fn HistoryFilters(filter: RwSignal<EventQuery>) -> impl IntoView {
    let kind = RwSignal::new(String::new());
    let host = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());

    let apply = move || {
        filter.update(|f| {
            f.kind = kind.get_untracked();
            f.host = host.get_untracked().trim().to_owned();
            f.from = time::from_local_input(&from.get_untracked()).unwrap_or_default();
            f.to = time::from_local_input(&to.get_untracked()).unwrap_or_default();
            f.after = None;
        });
    };
    let changed = move |field: RwSignal<String>| {
        move |ev: leptos::ev::Event| {
            field.set(event_target_value(&ev));
            apply();
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        apply();
    };
    let kinds: Vec<_> = KINDS
        .iter()
        .map(|(name, words)| view! { <option value=*name>{*words}</option> })
        .collect();

    view! {
        <form id="history-filters" class="filters" role="search" on:submit=submit>
            <div class="field">
                <label for="history-kind">"What happened"</label>
                <select id="history-kind" on:change=changed(kind)>
                    <option value="">"anything"</option>
                    {kinds}
                </select>
            </div>
            <div class="field">
                <label for="history-host">"Host"</label>
                <input id="history-host" type="search" autocomplete="off" spellcheck="false"
                    placeholder="e.g. web01" on:change=changed(host) />
            </div>
            <div class="field">
                <label for="history-from">"From"</label>
                <input id="history-from" type="datetime-local" on:change=changed(from) />
            </div>
            <div class="field">
                <label for="history-to">"Until"</label>
                <input id="history-to" type="datetime-local" on:change=changed(to) />
            </div>
        </form>
    }
}
