//! The public key to certify: pasted, loaded from a `.pub` file, or made in this browser.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ApiError;
use crate::browser;
use crate::keygen::GeneratedKey;

/// Public key files are a line of at most a few kilobytes, even for large RSA keys.
const MAX_KEY_FILE_BYTES: f64 = 16_384.0;

/// Said when a private key turns up where the public one belongs.
pub const PRIVATE_KEY_WARNING: &str = "That is a private key, which must stay secret and was \
    not sent. Use the public key instead: the file with the same name ending in .pub.";

/// Whether `text` is a private key, in any of the formats OpenSSH and PuTTY write.
pub fn is_private_key(text: &str) -> bool {
    text.contains("PRIVATE KEY") || text.contains("PuTTY-User-Key-File")
}

#[component]
pub fn KeyInput(
    public_key: RwSignal<String>,
    generated: RwSignal<Option<GeneratedKey>>,
    error: RwSignal<Option<ApiError>>,
) -> impl IntoView {
    let in_use = move || generated.with(Option::is_some);

    let load = move |ev: leptos::ev::Event| {
        let Some((input, file)) = browser::chosen_file(&ev) else {
            return;
        };
        error.set(None);
        spawn_local(async move {
            let text = if file.size() > MAX_KEY_FILE_BYTES {
                None
            } else {
                browser::read_text(&file).await
            };
            // Emptied so that choosing the same file again, after editing the text, reloads it.
            input.set_value("");
            match text {
                None => error.set(Some(ApiError::local(
                    "That file cannot be read as a public key. Choose the file ending in .pub.",
                ))),
                Some(text) if is_private_key(&text) => {
                    error.set(Some(ApiError::local(PRIVATE_KEY_WARNING)));
                }
                Some(text) => public_key.set(text.trim().to_owned()),
            }
        });
    };

    let generate = move |_| {
        error.set(None);
        spawn_local(async move {
            match GeneratedKey::generate().await {
                Ok(key) => {
                    public_key.set(key.public_line.clone());
                    generated.set(Some(key));
                }
                Err(message) => error.set(Some(ApiError::local(message))),
            }
        });
    };

    let discard = move |_| {
        let certified = generated.with_untracked(|g| g.as_ref().is_some_and(|g| g.certified));
        if certified
            && !browser::confirm(
                "Discard the key pair made in this browser? Its certificate works only with its \
                 private key, so download that first if you still need it.",
            )
        {
            return;
        }
        // Dropping the key revokes its download URL, which frees the browser's copy.
        generated.set(None);
        public_key.set(String::new());
    };

    let help = move || {
        if in_use() {
            "A new key pair was made in this browser. Its private key stays here, is never sent, \
             and is offered for download once the certificate is issued."
        } else {
            "One line starting with ssh-ed25519, ecdsa-sha2-… or ssh-rsa, such as the contents of \
             ~/.ssh/id_ed25519.pub. Never the private key."
        }
    };

    let sources = move || {
        if in_use() {
            view! {
                <button type="button" id="discard-key" class="secondary" on:click=discard>
                    "Discard this key pair and use another key"
                </button>
            }
            .into_any()
        } else {
            view! {
                <div class="key-file">
                    <label for="key-file">"Load a .pub file"</label>
                    <input type="file" id="key-file" accept=".pub,text/plain" on:change=load />
                </div>
                <p class="or">"or, if you have no SSH key yet:"</p>
                <button type="button" id="generate-key" class="secondary" on:click=generate>
                    "Make a key pair in this browser"
                </button>
            }
            .into_any()
        }
    };

    view! {
        <label for="public-key">"Your SSH public key"</label>
        <textarea id="public-key" name="public-key" rows="4" spellcheck="false"
            autocomplete="off" autocapitalize="off" aria-describedby="public-key-help"
            placeholder="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA… you@laptop"
            readonly=in_use prop:value=move || public_key.get()
            on:input=move |ev| public_key.set(event_target_value(&ev))></textarea>
        <p id="public-key-help" class="hint">{help}</p>
        <div class="key-sources">{sources}</div>
    }
}
