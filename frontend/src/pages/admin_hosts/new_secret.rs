//! A token just issued, shown this once with a copy button: the portal keeps only its hash.

use leptos::prelude::*;
use opsportal_shared::ingest::IssuedToken;

use crate::components::copy_button::CopyButton;

/// The secret on screen and the host it is for.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub host: String,
    pub token: IssuedToken,
}

#[component]
pub fn NewSecret(secret: Shown, on_done: Callback<()>) -> impl IntoView {
    let revoked = match secret.token.revoked {
        0 => None,
        1 => Some("Its previous token was revoked.".to_owned()),
        n => Some(format!("Its {n} previous tokens were revoked.")),
    };
    let token = secret.token.token.clone();

    view! {
        <section id="new-token" class="card secret" aria-labelledby="new-token-title">
            <h2 id="new-token-title">"New token for " {secret.host.clone()}</h2>
            {revoked.map(|text| view! { <p>{text}</p> })}
            <label for="new-token-secret">"Token"</label>
            <div class="secret-line">
                <input id="new-token-secret" type="text" readonly spellcheck="false"
                    autocomplete="off" value=token.clone() />
                <CopyButton id="copy-token" label="Copy" text=token />
            </div>
            <p class="private-key note">
                "Copy it into the host's log shipper now (header "
                <code>"Authorization: Bearer …"</code>
                "). It will not be shown again: the portal keeps only a hash of it. "
                "If it is lost, issue a new one."
            </p>
            <button type="button" id="new-token-done" class="secondary"
                on:click=move |_| on_done.run(())>"Done"</button>
        </section>
    }
}
