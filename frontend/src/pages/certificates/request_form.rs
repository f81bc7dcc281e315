//! The request form: a public key, the principals to log in as, a lifetime, and the button.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use opsportal_shared::certs::{CertificatePolicy, IssueRequest, IssuedCertificate};

use super::key_input::{self, KeyInput};
use super::lifetimes;
use crate::api::{self, ApiError};
use crate::components::error_note::ErrorNote;
use crate::keygen::GeneratedKey;
use crate::time;

#[component]
pub fn RequestForm(
    policy: CertificatePolicy,
    generated: RwSignal<Option<GeneratedKey>>,
    on_issued: Callback<IssuedCertificate>,
) -> impl IntoView {
    let CertificatePolicy {
        principals: limits,
        default_ttl_secs,
        max_ttl_secs,
        ..
    } = policy;
    let order: Vec<String> = limits.iter().map(|l| l.principal.clone()).collect();
    let public_key = RwSignal::new(String::new());
    let chosen = RwSignal::new(order.clone());
    let wanted_ttl = RwSignal::new(default_ttl_secs);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);

    let cap = {
        let limits = limits.clone();
        Memo::new(move |_| {
            let limits = limits
                .iter()
                .map(|l| (l.principal.as_str(), l.max_ttl_secs));
            chosen.with(|chosen| lifetimes::cap(limits, chosen, max_ttl_secs))
        })
    };
    let options = Memo::new(move |_| lifetimes::options(cap.get(), default_ttl_secs));
    let ttl = Memo::new(move |_| options.with(|o| lifetimes::pick(o, wanted_ttl.get())));

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let key = public_key.get_untracked().trim().to_owned();
        let principals: Vec<String> = chosen.with_untracked(|chosen| {
            order
                .iter()
                .filter(|p| chosen.contains(p))
                .cloned()
                .collect()
        });
        let problem = if key.is_empty() {
            Some("Paste your public key, load its .pub file, or make a key pair in this browser.")
        } else if key_input::is_private_key(&key) {
            public_key.set(String::new());
            Some(key_input::PRIVATE_KEY_WARNING)
        } else if principals.is_empty() {
            Some("Tick at least one principal to log in as.")
        } else {
            None
        };
        if let Some(problem) = problem {
            error.set(Some(ApiError::local(problem)));
            return;
        }
        let request = IssueRequest {
            public_key: key,
            principals: Some(principals),
            ttl_secs: Some(ttl.get_untracked()),
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = api::issue_certificate(request).await;
            busy.set(false);
            match result {
                Ok(cert) => {
                    generated.update(|key| {
                        if let Some(key) = key
                            .as_mut()
                            .filter(|k| k.fingerprint == cert.summary.key_fingerprint)
                        {
                            key.certified = true;
                        }
                    });
                    on_issued.run(cert);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    let checkboxes: Vec<_> = limits
        .into_iter()
        .map(|limit| {
            let principal = limit.principal;
            let checked = {
                let principal = principal.clone();
                move || chosen.with(|c| c.contains(&principal))
            };
            let toggle = {
                let principal = principal.clone();
                move |ev: leptos::ev::Event| {
                    let on = event_target_checked(&ev);
                    chosen.update(|c| {
                        c.retain(|p| p != &principal);
                        if on {
                            c.push(principal.clone());
                        }
                    });
                }
            };
            view! {
                <label class="check">
                    <input type="checkbox" name="principal" value=principal.clone()
                        prop:checked=checked on:change=toggle />
                    <code>{principal}</code>
                    <span class="muted">" up to "{time::lifetime(limit.max_ttl_secs)}</span>
                </label>
            }
        })
        .collect();

    let lifetime_options = move || {
        options
            .get()
            .into_iter()
            .map(|secs| {
                view! {
                    <option value=secs.to_string() prop:selected=move || ttl.get() == secs>
                        {time::lifetime(secs)}
                    </option>
                }
            })
            .collect_view()
    };
    let choose_lifetime = move |ev: leptos::ev::Event| {
        if let Ok(secs) = event_target_value(&ev).parse() {
            wanted_ttl.set(secs);
        }
    };
    let cap_note = move || {
        (cap.get() < max_ttl_secs).then(|| {
            format!(
                "At most {} with the principals ticked.",
                time::lifetime(cap.get())
            )
        })
    };

    view! {
        <form class="request" on:submit=submit>
            <KeyInput public_key generated error />
            <fieldset class="principals">
                <legend>"Log in as"</legend>
                <p class="hint">"The principals (server accounts or roles) the certificate is for."</p>
                {checkboxes}
            </fieldset>
            <label for="lifetime">"Valid for"</label>
            <select id="lifetime" name="lifetime" aria-describedby="lifetime-help"
                on:change=choose_lifetime>
                {lifetime_options}
            </select>
            <p id="lifetime-help" class="hint">{cap_note}</p>
            <button id="request-certificate" type="submit" class="primary"
                disabled=move || busy.get()>
                {move || if busy.get() { "Requesting…" } else { "Request certificate" }}
            </button>
            <ErrorNote error=error />
        </form>
    }
}
