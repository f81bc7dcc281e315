//! The auditors' search form: who, where, from which address, which certificate or key, what
//! happened, when, free text, and whether only the logins needing a look are wanted.

use leptos::prelude::*;

use crate::api::EventQuery;
use crate::events::KINDS;
use crate::time;

/// Page sizes offered; the server allows up to 500.
const PAGE_SIZES: [u32; 5] = [10, 25, 50, 100, 200];

/// The form's fields, held by the page so that choosing a person in the results can fill one.
#[derive(Debug, Clone, Copy)]
pub struct AuditFields {
    pub person: RwSignal<String>,
    host: RwSignal<String>,
    src: RwSignal<String>,
    serial: RwSignal<String>,
    key: RwSignal<String>,
    kind: RwSignal<String>,
    /// `datetime-local` values, in the browser's time zone.
    from: RwSignal<String>,
    to: RwSignal<String>,
    text: RwSignal<String>,
    flagged_only: RwSignal<bool>,
    limit: RwSignal<u32>,
}

impl AuditFields {
    pub fn new(limit: u32) -> Self {
        Self {
            person: RwSignal::default(),
            host: RwSignal::default(),
            src: RwSignal::default(),
            serial: RwSignal::default(),
            key: RwSignal::default(),
            kind: RwSignal::default(),
            from: RwSignal::default(),
            to: RwSignal::default(),
            text: RwSignal::default(),
            flagged_only: RwSignal::default(),
            limit: RwSignal::new(limit),
        }
    }

    /// The search the fields describe, from its first page.
    pub fn query(&self) -> EventQuery {
        let text = |field: RwSignal<String>| field.get_untracked().trim().to_owned();
        let time = |field: RwSignal<String>| {
            time::from_local_input(&field.get_untracked()).unwrap_or_default()
        };
        EventQuery {
            person: text(self.person),
            host: text(self.host),
            src: text(self.src),
            serial: text(self.serial),
            key: text(self.key),
            kind: text(self.kind),
            from: time(self.from),
            to: time(self.to),
            text: text(self.text),
            flagged_only: self.flagged_only.get_untracked(),
            limit: self.limit.get_untracked(),
            after: None,
        }
    }
}

#[component]
pub fn AuditForm(fields: AuditFields, on_search: Callback<()>) -> impl IntoView {
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_search.run(());
    };
    let kinds: Vec<_> = KINDS
        .iter()
        .map(|(name, words)| view! { <option value=*name>{*words}</option> })
        .collect();
    let sizes: Vec<_> = PAGE_SIZES
        .iter()
        .map(|size| {
            let size = *size;
            view! {
                <option value=size.to_string() selected=move || fields.limit.get() == size>
                    {size}
                </option>
            }
        })
        .collect();
    let choose = move |field: RwSignal<String>| {
        move |ev: leptos::ev::Event| field.set(event_target_value(&ev))
    };
    let choose_limit = move |ev: leptos::ev::Event| {
        if let Ok(size) = event_target_value(&ev).parse() {
            fields.limit.set(size);
        }
    };

    view! {
        <form id="audit-form" class="filters" role="search" on:submit=submit>
            {field("audit-person", "Person", "user name", "search", fields.person)}
            {field("audit-host", "Host", "e.g. web01", "search", fields.host)}
            {field("audit-src", "Source address", "e.g. 10.0.0.5", "search", fields.src)}
            {field("audit-serial", "Serial", "decimal", "search", fields.serial)}
            {field("audit-key", "Key fingerprint", "SHA256:…", "search", fields.key)}
            <div class="field">
                <label for="audit-kind">"What happened"</label>
                <select id="audit-kind" on:change=choose(fields.kind)>
                    <option value="">"anything"</option>
                    {kinds}
                </select>
            </div>
            {field("audit-from", "From", "", "datetime-local", fields.from)}
            {field("audit-to", "Until", "", "datetime-local", fields.to)}
            {field("audit-text", "Text in the line", "any words", "search", fields.text)}
            <div class="field">
                <label for="audit-limit">"Per page"</label>
                <select id="audit-limit" on:change=choose_limit>{sizes}</select>
            </div>
            <label class="check">
                <input id="audit-flagged" type="checkbox"
                    prop:checked=move || fields.flagged_only.get()
                    on:change=move |ev| fields.flagged_only.set(event_target_checked(&ev)) />
                "Flagged only"
            </label>
            <button type="submit" id="audit-search" class="primary">"Search"</button>
        </form>
    }
}

/// A labelled input bound to `value`.
fn field(
    id: &'static str,
    label: &'static str,
    placeholder: &'static str,
    kind: &'static str,
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type=kind autocomplete="off" spellcheck="false" placeholder=placeholder
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev)) />
        </div>
    }
}
