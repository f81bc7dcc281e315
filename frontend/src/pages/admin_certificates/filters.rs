//! The filters above the list of all certificates: person, principal and state.

use std::time::Duration;

use leptos::prelude::*;
use opsportal_shared::certs::CertificateState;

use crate::api::CertificateFilter;

/// How long typing must pause before the list is asked for again.
const TYPING_PAUSE: Duration = Duration::from_millis(300);

const STATES: [CertificateState; 6] = [
    CertificateState::Valid,
    CertificateState::Expired,
    CertificateState::Revoked,
    CertificateState::Unfinished,
    CertificateState::Failed,
    CertificateState::Rejected,
];

/// Writes the filters into `filter` as they change; text fields once typing pauses.
#[component]
pub fn Filters(filter: RwSignal<CertificateFilter>) -> impl IntoView {
    let user = RwSignal::new(String::new());
    let principal = RwSignal::new(String::new());
    let state = RwSignal::new(String::new());
    let pending = StoredValue::new(None::<TimeoutHandle>);

    let apply = move |delay: Duration| {
        if let Some(waiting) = pending.get_value() {
            waiting.clear();
        }
        let update = move || {
            filter.update(|f| {
                f.user = user.get_untracked();
                f.principal = principal.get_untracked();
                f.state = state.get_untracked();
            });
        };
        pending.set_value(set_timeout_with_handle(update, delay).ok());
    };
    let typed = move |field: RwSignal<String>| {
        move |ev: leptos::ev::Event| {
            field.set(event_target_value(&ev));
            apply(TYPING_PAUSE);
        }
    };
    // Leaving a field, or emptying it in ways that fire no `input` event, applies it at once.
    let left = move |field: RwSignal<String>| {
        move |ev: leptos::ev::Event| {
            field.set(event_target_value(&ev));
            apply(Duration::ZERO);
        }
    };
    let choose_state = move |ev: leptos::ev::Event| {
        state.set(event_target_value(&ev));
        apply(Duration::ZERO);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        apply(Duration::ZERO);
    };
    let states: Vec<_> = STATES
        .iter()
        .map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })
        .collect();

    view! {
        <form class="filters" role="search" on:submit=submit>
            <div class="field">
                <label for="filter-user">"Person"</label>
                <input id="filter-user" type="search" autocomplete="off" spellcheck="false"
                    placeholder="user name" prop:value=move || user.get()
                    on:input=typed(user) on:change=left(user) />
            </div>
            <div class="field">
                <label for="filter-principal">"Principal"</label>
                <input id="filter-principal" type="search" autocomplete="off" spellcheck="false"
                    placeholder="e.g. root" prop:value=move || principal.get()
                    on:input=typed(principal) on:change=left(principal) />
            </div>
            <div class="field">
                <label for="filter-state">"State"</label>
                <select id="filter-state" on:change=choose_state>
                    <option value="">"any"</option>
                    {states}
                </select>
            </div>
        </form>
    }
}
