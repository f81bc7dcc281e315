//! The newest certificates the portal issued the person, below their history: a login's serial
//! can be found here.

use leptos::prelude::*;
use leptos_router::components::A;
use opsportal_shared::certs::CertificateSummary;

use crate::api;
use crate::components::certificate_table::CertificateTable;
use crate::components::error_note::ErrorNote;

/// How many are listed here; the certificates page has all of them.
const SHOWN: usize = 10;

#[component]
pub fn IssuedCertificates() -> impl IntoView {
    let mine = LocalResource::new(api::my_certificates);
    let rows = Signal::derive(move || {
        let mut rows = mine.get().and_then(Result::ok).unwrap_or_default();
        rows.truncate(SHOWN);
        rows
    });
    let empty = move || {
        mine.get()
            .is_some_and(|r| r.is_ok_and(|rows| rows.is_empty()))
            .then(|| view! { <p class="muted">"None issued to you yet."</p> })
    };
    let error = Signal::derive(move || mine.get().and_then(Result::err));

    view! {
        <section class="card" aria-labelledby="issued-title">
            <h2 id="issued-title">"Certificates issued"</h2>
            <CertificateTable id="history-certificates" rows
                actions=|_: &CertificateSummary| () />
            {empty}
            <ErrorNote error />
            <p class="hint">
                "The newest " {SHOWN} "; all of them are on "
                <A href="/certificates">"Certificates"</A> "."
            </p>
        </section>
    }
}
