//! One certificate with everything needed to use it: the files to save, the time left, an
//! `ssh_config` entry, and the steps for OpenSSH and PuTTY.

use leptos::prelude::*;
use opsportal_shared::certs::{CertificateState, IssuedCertificate};

use crate::api;
use crate::components::copy_button::CopyButton;
use crate::components::countdown::Countdown;
use crate::components::state_badge::StateBadge;
use crate::time;

#[component]
pub fn IssuedPanel(
    cert: IssuedCertificate,
    /// The download URL of the private key, when it was made in this browser.
    #[prop(into)]
    private_key: Signal<Option<String>>,
) -> impl IntoView {
    let IssuedCertificate {
        summary,
        certificate,
        file_name,
        identity_file,
        details,
    } = cert;
    let user = login_name(&summary.principals);
    let config = ssh_config(&user, &identity_file, &file_name);
    let until_ms = summary.valid_before.as_deref().and_then(time::epoch_ms);
    let left = match summary.state {
        CertificateState::Valid | CertificateState::Expired => {
            until_ms.map(|until_ms| view! { <Countdown until_ms /> }.into_any())
        }
        CertificateState::Revoked => Some(
            view! { <span class="countdown expired">"revoked: it no longer works"</span> }
                .into_any(),
        ),
        _ => None,
    };
    let validity = match (&summary.valid_after, &summary.valid_before) {
        (Some(after), Some(before)) => {
            format!("from {} until {}", time::local(after), time::local(before))
        }
        _ => "—".to_owned(),
    };

    let private_download = {
        let identity_file = identity_file.clone();
        move || {
            private_key.get().map(|url| {
                view! {
                    <div class="private-key">
                        <a id="download-private-key" class="button primary" href=url
                            download=identity_file.clone()>
                            "Download the private key (" {identity_file.clone()} ")"
                        </a>
                        <p class="note">
                            "This private key was made in your browser and exists nowhere else: \
                             download it now, it is gone when you leave or reload this page. Save \
                             it as " <code>"~/.ssh/" {identity_file.clone()}</code> " and keep it \
                             secret. Make it readable only by you with "
                            <code>"chmod 600 ~/.ssh/" {identity_file.clone()}</code>
                            ", or OpenSSH refuses to use it. It has no passphrase; to add one: "
                            <code>"ssh-keygen -p -f ~/.ssh/" {identity_file.clone()}</code> "."
                        </p>
                    </div>
                }
            })
        }
    };

    view! {
        <section id="issued" class="card issued" aria-labelledby="issued-title">
            <h2 id="issued-title">"Your certificate"</h2>
            <dl class="facts">
                <dt>"State"</dt>
                <dd class="state-line"><StateBadge state=summary.state /> {left}</dd>
                <dt>"Log in as"</dt>
                <dd>{summary.principals.join(", ")}</dd>
                <dt>"Valid"</dt>
                <dd>{validity}</dd>
                <dt>"Serial"</dt>
                <dd><code>{summary.serial.clone().unwrap_or_else(|| "—".into())}</code></dd>
                <dt>"Key"</dt>
                <dd><code>{summary.key_fingerprint.clone()}</code></dd>
            </dl>

            <h3>"1. Save the files"</h3>
            {private_download}
            <div class="actions">
                <a id="download-certificate" class="button primary"
                    href=api::certificate_download_path(summary.id) download=file_name.clone()>
                    "Download the certificate (" {file_name.clone()} ")"
                </a>
                <CopyButton id="copy-certificate" label="Copy certificate"
                    text=certificate.clone() />
            </div>
            <pre id="certificate-text" class="mono">{certificate}</pre>

            <h3>"2. Connect with OpenSSH"</h3>
            <ol class="steps">
                <li>
                    "Save the certificate as " <code>"~/.ssh/" {file_name.clone()}</code>
                    ", next to your private key " <code>"~/.ssh/" {identity_file.clone()}</code>
                    " (on Windows in " <code>"%USERPROFILE%\\.ssh\\"</code> ")."
                </li>
                <li>
                    "Connect as usual, e.g. " <code>"ssh " {user.clone()} "@host"</code>
                    ": OpenSSH finds the certificate by its name and offers it with the key."
                </li>
                <li>
                    "Or add this to " <code>"~/.ssh/config"</code>
                    ", with your servers' names in the Host line:"
                </li>
            </ol>
            <pre id="ssh-config" class="mono">{config.clone()}</pre>
            <div class="actions">
                <CopyButton id="copy-ssh-config" label="Copy ssh_config" text=config />
            </div>
            <p class="hint">
                "If your private key has another name, e.g. " <code>"~/.ssh/work"</code>
                ", save the certificate as " <code>"~/.ssh/work-cert.pub"</code>
                " and change both file lines to match."
            </p>

            <h3>"Or connect with PuTTY (0.78 and later)"</h3>
            <ol class="steps">
                <li>
                    "PuTTY reads private keys as .ppk files. If yours is in OpenSSH format (like "
                    <code>{identity_file}</code> "), open it in PuTTYgen with Conversions → "
                    "Import key, then Save private key."
                </li>
                <li>
                    "In PuTTY, open Connection → SSH → Auth → Credentials. Set “Private key file "
                    "for authentication” to your .ppk file and “Certificate to use with the "
                    "private key” to " <code>{file_name}</code> "."
                </li>
                <li>
                    "Enter the server's name under Session, open the connection and log in as "
                    <code>{user}</code> "."
                </li>
            </ol>

            <h3>"What is in it"</h3>
            <pre id="certificate-details" class="mono">{details}</pre>
        </section>
    }
}

/// The account to log in as in the examples: `root` when the certificate allows it, since
/// other principals are often roles that servers map to accounts, else the first principal.
fn login_name(principals: &[String]) -> String {
    principals
        .iter()
        .find(|p| *p == "root")
        .or_else(|| principals.first())
        .cloned()
        .unwrap_or_else(|| "root".to_owned())
}

/// An `ssh_config` entry that uses the certificate for every server under one domain.
fn ssh_config(user: &str, identity_file: &str, file_name: &str) -> String {
    format!(
        "Host *.example.com\n    User {user}\n    IdentityFile ~/.ssh/{identity_file}\n    \
         CertificateFile ~/.ssh/{file_name}\n    IdentitiesOnly yes\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_names_both_files() {
        assert_eq!(
            ssh_config("root", "id_ed25519", "id_ed25519-cert.pub"),
            "Host *.example.com\n    User root\n    IdentityFile ~/.ssh/id_ed25519\n    \
             CertificateFile ~/.ssh/id_ed25519-cert.pub\n    IdentitiesOnly yes\n"
        );
    }

    #[test]
    fn examples_log_in_as_root_when_allowed() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(login_name(&names(&["zone-webservers", "root"])), "root");
        assert_eq!(login_name(&names(&["deploy", "zone-webservers"])), "deploy");
    }
}
