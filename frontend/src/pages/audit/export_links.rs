//! Links that download the whole result of the current search, as CSV or NDJSON.

use leptos::prelude::*;

use crate::api::{self, EventQuery};

#[component]
pub fn ExportLinks(#[prop(into)] query: Signal<EventQuery>) -> impl IntoView {
    let csv = move || query.with(|q| api::audit_export_path(q, "csv"));
    let ndjson = move || query.with(|q| api::audit_export_path(q, "ndjson"));
    view! {
        <p class="actions export">
            <span class="muted">"Export every match:"</span>
            <a id="export-csv" class="button" href=csv download="opsportal-events.csv">"CSV"</a>
            <a id="export-ndjson" class="button" href=ndjson download="opsportal-events.ndjson">
                "NDJSON"
            </a>
        </p>
    }
}
