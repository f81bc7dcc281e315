//! `/certificates`: getting an SSH certificate on one screen, for people who rarely need one.
//!
//! The request form comes first, the new certificate with how to use it right below, then the
//! person's earlier certificates, any of which can be shown the same way.

mod issued_panel;
mod key_input;
mod lifetimes;
mod request_form;

use leptos::prelude::*;
use leptos::task::spawn_local;
use opsportal_shared::certs::IssuedCertificate;

use self::issued_panel::IssuedPanel;
use self::request_form::RequestForm;
use crate::api::{self, ApiError};
use crate::browser;
use crate::components::certificate_table::CertificateTable;
use crate::components::error_note::ErrorNote;
use crate::components::signed_in::SignedIn;
use crate::keygen::GeneratedKey;

#[component]
pub fn CertificatesPage() -> impl IntoView {
    view! { <SignedIn page=|_| view! { <Certificates /> } /> }
}

#[component]
fn Certificates() -> impl IntoView {
    let policy = LocalResource::new(api::certificate_policy);
    let mine = LocalResource::new(api::my_certificates);
    // Lives here rather than in the form so that the issued panel can offer its private key.
    let generated = RwSignal::new(None::<GeneratedKey>);
    let shown = RwSignal::new(None::<IssuedCertificate>);
    let show_error = RwSignal::new(None::<ApiError>);

    let on_issued = Callback::new(move |cert: IssuedCertificate| {
        shown.set(Some(cert));
        mine.refetch();
        browser::scroll_to("issued");
    });
    let show = Callback::new(move |id: i64| {
        show_error.set(None);
        spawn_local(async move {
            match api::certificate(id).await {
                Ok(cert) => {
                    shown.set(Some(cert));
                    browser::scroll_to("issued");
                }
                Err(e) => show_error.set(Some(e)),
            }
        });
    });

    // Offered only beside a certificate for the key made here, i.e. once it has been issued.
    let private_key = Signal::derive(move || {
        let fingerprint = shown.with(|c| c.as_ref().map(|c| c.summary.key_fingerprint.clone()))?;
        generated.with(|key| {
            key.as_ref()
                .filter(|key| key.fingerprint == fingerprint)
                .map(|key| key.private_key.as_str().to_owned())
        })
    });

    let form = move || match policy.get() {
        None => view! { <p class="muted">"Loading…"</p> }.into_any(),
        Some(Err(e)) => view! { <ErrorNote error=Some(e) /> }.into_any(),
        Some(Ok(policy)) if policy.principals.is_empty() => view! {
            <p id="no-principals" class="muted">
                "Your groups grant no SSH principals, so there is no certificate to request. "
                "Ask your administrator for access."
            </p>
        }
        .into_any(),
        Some(Ok(policy)) => view! { <RequestForm policy generated on_issued /> }.into_any(),
    };

    let rows = Signal::derive(move || mine.get().and_then(Result::ok).unwrap_or_default());
    let empty = move || {
        mine.get()
            .is_some_and(|r| r.is_ok_and(|rows| rows.is_empty()))
            .then(|| {
                view! { <p class="muted">"None yet: certificates appear here once requested."</p> }
            })
    };
    let list_error = Signal::derive(move || {
        show_error
            .get()
            .or_else(|| mine.get().and_then(Result::err))
    });
    let selected = Signal::derive(move || shown.with(|c| c.as_ref().map(|c| c.summary.id)));

    view! {
        <section class="card" aria-labelledby="request-title">
            <h1 id="request-title">"Get an SSH certificate"</h1>
            <p class="lead">
                "A certificate lets you log in to servers with your SSH key for a limited time. "
                "Give your public key, choose what to log in as and for how long, and request it."
            </p>
            {form}
        </section>
        {move || shown.get().map(|cert| view! { <IssuedPanel cert private_key /> })}
        <section class="card" aria-labelledby="mine-title">
            <h2 id="mine-title">"My certificates"</h2>
            <CertificateTable id="my-certificates" rows on_select=show selected
                actions=|_| view! { <button type="button" class="secondary show">"Show"</button> } />
            {empty}
            <ErrorNote error=list_error />
        </section>
    }
}
