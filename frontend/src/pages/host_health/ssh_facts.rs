//! How sshd on the host decides who may log in, from the latest report: the CA keys it trusts,
//! its principals files and what they list per account, its LogLevel and its copy of the
//! revocation list. Every value here was read on the host, so all of it is text only.

use leptos::prelude::*;
use opsportal_shared::health::{CaKeysFile, RevokedKeysFile, SshAccount, SshFacts};

use crate::events;

#[component]
pub fn SshFactsCard(ssh: Option<SshFacts>) -> impl IntoView {
    let body = match ssh {
        None => view! { <p class="muted">"No report from this host yet."</p> }.into_any(),
        Some(facts) if !facts.config_readable => view! {
            <p class="muted">
                "The agent could not read " <code>{facts.config_path}</code>
                ", so nothing is known about who may log in."
            </p>
        }
        .into_any(),
        Some(facts) => facts_list(facts).into_any(),
    };
    view! {
        <section id="ssh-facts" class="card" aria-labelledby="ssh-facts-title">
            <h2 id="ssh-facts-title">"SSH access"</h2>
            {body}
        </section>
    }
}

fn facts_list(facts: SshFacts) -> impl IntoView {
    let unset = || view! { <span class="muted">"not set"</span> }.into_any();
    let principals_file = facts
        .authorized_principals_file
        .map_or_else(unset, |path| view! { <code>{path}</code> }.into_any());
    let accounts = (!facts.accounts.is_empty()).then(|| accounts_table(facts.accounts));
    view! {
        <dl class="facts">
            <dt>"Configuration"</dt>
            <dd><code>{facts.config_path}</code></dd>
            <dt>"LogLevel"</dt>
            <dd class="log-level">{facts.log_level.unwrap_or_else(|| "INFO".to_owned())}</dd>
            <dt>"Trusted CA keys"</dt>
            <dd class="ca-keys">{ca_keys(facts.trusted_user_ca_keys)}</dd>
            <dt>"AuthorizedPrincipalsFile"</dt>
            <dd>{principals_file}</dd>
            <dt>"RevokedKeys"</dt>
            <dd class="revoked-keys">{revoked_keys(facts.revoked_keys)}</dd>
        </dl>
        {accounts}
    }
}

fn ca_keys(file: Option<CaKeysFile>) -> AnyView {
    let Some(file) = file else {
        return view! { <span class="muted">"not set: no certificate can log in"</span> }
            .into_any();
    };
    let keys = file
        .keys
        .into_iter()
        .map(|key| {
            view! {
                <li>
                    <code class="fingerprint">{key.fingerprint}</code>
                    <span class="muted">{format!(" {} {}", key.algorithm, key.comment)}</span>
                </li>
            }
        })
        .collect_view();
    let error = file
        .error
        .map(|text| view! { <span class="explanation">{text}</span> });
    view! {
        <code>{file.path}</code>
        <ul class="plain-list">{keys}</ul>
        {error}
    }
    .into_any()
}

fn revoked_keys(file: Option<RevokedKeysFile>) -> AnyView {
    let Some(file) = file else {
        return view! { <span class="muted">"not set: revoked certificates still log in"</span> }
            .into_any();
    };
    let hash = file
        .sha256
        .map_or_else(|| "unreadable".to_owned(), |hash| format!("SHA-256 {hash}"));
    let age = file.age_secs.map_or_else(
        || "age unknown".to_owned(),
        |secs| format!("written {} ago", events::duration(secs as i64)),
    );
    view! {
        <code>{file.path}</code>
        <span class="explanation"><code class="fingerprint">{hash}</code></span>
        <span class="explanation">{age}</span>
    }
    .into_any()
}

fn accounts_table(accounts: Vec<SshAccount>) -> impl IntoView {
    let rows = accounts
        .into_iter()
        .map(|account| {
            let principals = match account.principals {
                None => "file missing or unreadable".to_owned(),
                Some(list) if list.is_empty() => "none".to_owned(),
                Some(list) => list.join(", "),
            };
            view! {
                <tr class="account-row">
                    <td class="account"><code>{account.name}</code></td>
                    <td class="number">{account.uid}</td>
                    <td class="account"><code>{account.principals_file.unwrap_or_default()}</code></td>
                    <td class="principals">{principals}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h3>"Accounts certificates may log in to"</h3>
        <div class="table-wrap">
            <table class="events accounts">
                <thead>
                    <tr>
                        <th scope="col">"Account"</th>
                        <th scope="col">"uid"</th>
                        <th scope="col">"Principals file"</th>
                        <th scope="col">"Principals"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
