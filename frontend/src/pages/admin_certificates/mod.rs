//! `/admin/certificates`: everyone's certificates, filtered, for admins and auditors; admins
//! can revoke one, all of a person's, or all of a key's.

mod filters;
mod revoke;

use leptos::prelude::*;
use leptos::task::spawn_local;
use opsportal_shared::auth::{Me, Role};
use opsportal_shared::certs::{CertificateState, CertificateSummary};

use self::filters::Filters;
use self::revoke::Target;
use crate::api::{self, ApiError, CertificateFilter};
use crate::components::certificate_table::CertificateTable;
use crate::components::error_note::ErrorNote;
use crate::components::signed_in::SignedIn;

/// Most certificates listed at once; the newest come first.
const LIMIT: u32 = 200;

#[component]
pub fn AdminCertificatesPage() -> impl IntoView {
    view! { <SignedIn page=for_role /> }
}

fn for_role(me: Me) -> AnyView {
    let can_revoke = me.roles.contains(&Role::Admin);
    if can_revoke || me.roles.contains(&Role::Auditor) {
        view! { <AllCertificates can_revoke /> }.into_any()
    } else {
        view! {
            <section class="card">
                <h1>"All certificates"</h1>
                <p id="not-allowed" class="muted">"This page is for admins and auditors."</p>
            </section>
        }
        .into_any()
    }
}

#[component]
fn AllCertificates(can_revoke: bool) -> impl IntoView {
    let filter = RwSignal::new(CertificateFilter {
        limit: LIMIT,
        ..CertificateFilter::default()
    });
    let list = LocalResource::new(move || api::all_certificates(filter.get()));
    let notice = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);

    let revoke = Callback::new(move |target: Target| {
        if busy.get_untracked() {
            return;
        }
        let Some(reason) = target.ask() else {
            return;
        };
        busy.set(true);
        notice.set(None);
        error.set(None);
        spawn_local(async move {
            let result = target.revoke(reason).await;
            busy.set(false);
            match result {
                Ok(outcome) => {
                    notice.set(Some(target.outcome(outcome.revoked)));
                    list.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    });

    let actions = move |cert: &CertificateSummary| {
        can_revoke.then(|| revoke_buttons(cert, revoke, busy.into()))
    };
    let rows = Signal::derive(move || list.get().and_then(Result::ok).unwrap_or_default());
    let summary = move || {
        list.get()
            .and_then(Result::ok)
            .map(|rows| match rows.len() {
                0 => "No certificates match.".to_owned(),
                n if n >= LIMIT as usize => {
                    format!("The newest {n} shown; narrow the filters to find others.")
                }
                1 => "1 certificate.".to_owned(),
                n => format!("{n} certificates."),
            })
    };
    let shown_error =
        Signal::derive(move || error.get().or_else(|| list.get().and_then(Result::err)));

    view! {
        <section class="card" aria-labelledby="all-title">
            <h1 id="all-title">"All certificates"</h1>
            <Filters filter />
            {move || notice.get().map(|text| view! {
                <p id="revoke-result" class="notice" role="status">{text}</p>
            })}
            <ErrorNote error=shown_error />
            <p class="muted list-summary">{summary}</p>
            <CertificateTable id="all-certificates" rows show_owner=true actions />
        </section>
    }
}

/// The revocation buttons of one row: the certificate (while it is issued and not revoked),
/// everything of its owner, everything of its key.
fn revoke_buttons(
    cert: &CertificateSummary,
    revoke: Callback<Target>,
    busy: Signal<bool>,
) -> AnyView {
    let revocable = matches!(
        cert.state,
        CertificateState::Valid | CertificateState::Expired
    );
    let one = Target::Certificate {
        id: cert.id,
        serial: cert.serial.clone(),
        username: cert.username.clone(),
    };
    let person = Target::Person(cert.username.clone());
    let key = Target::Key(cert.key_fingerprint.clone());
    let person_label = format!("Revoke every certificate of {}", cert.username);
    let key_label = format!("Revoke every certificate of key {}", cert.key_fingerprint);
    let button = move |target: Target| move |_| revoke.run(target.clone());
    view! {
        <div class="row-buttons">
            {revocable.then(|| view! {
                <button type="button" class="danger revoke" disabled=move || busy.get()
                    on:click=button(one)>"Revoke"</button>
            })}
            <button type="button" class="secondary revoke-person" aria-label=person_label.clone()
                title=person_label disabled=move || busy.get() on:click=button(person)>
                "All of person"
            </button>
            <button type="button" class="secondary revoke-key" aria-label=key_label.clone()
                title=key_label disabled=move || busy.get() on:click=button(key)>
                "All of key"
            </button>
        </div>
    }
    .into_any()
}
