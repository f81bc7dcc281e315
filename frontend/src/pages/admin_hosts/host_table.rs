//! The hosts with their addresses, ingest health and tokens, one row each, and the buttons
//! that issue, rotate and revoke tokens. A host's name leads to its health page.

use leptos::prelude::*;
use leptos_router::components::A;
use opsportal_shared::ingest::{HostView, TokenView};

use super::token_action::TokenAction;
use crate::events;
use crate::time;

#[component]
pub fn HostTable(
    #[prop(into)] hosts: Signal<Vec<HostView>>,
    on_action: Callback<TokenAction>,
    #[prop(into)] busy: Signal<bool>,
) -> impl IntoView {
    let row = move |host: HostView| {
        let never = || "never".to_owned();
        let seen = host.last_seen_at.as_deref().map_or_else(never, time::local);
        let lag = host
            .lag_secs
            .map_or_else(|| "—".to_owned(), events::duration);
        let tokens: Vec<_> = host
            .tokens
            .iter()
            .map(|token| token_item(token, on_action, busy))
            .collect();
        let issue = TokenAction::Issue {
            host_id: host.id,
            host: host.name.clone(),
        };
        let rotate = TokenAction::Rotate {
            host_id: host.id,
            host: host.name.clone(),
        };
        let health = format!("/admin/hosts/{}/health", host.id);
        let has_live = host.tokens.iter().any(|t| t.revoked_at.is_none());
        view! {
            <tr class="host-row" data-id=host.id.to_string()>
                <td class="host-name">
                    <A href=health attr:title="Health of this host">{host.name.clone()}</A>
                </td>
                <td class="addresses">{host.addresses.join(", ")}</td>
                <td>
                    <time datetime=host.last_seen_at.clone()
                        title=host.last_seen_at.as_deref().map(time::utc)>{seen}</time>
                </td>
                <td>{lag}</td>
                <td class="number">{host.lines_total}</td>
                <td class="number">{host.rejected_total}</td>
                <td><ul class="tokens">{tokens}</ul></td>
                <td class="row-actions">
                    <div class="row-buttons">
                        <button type="button" class="secondary new-token"
                            disabled=move || busy.get()
                            on:click=move |_| on_action.run(issue.clone())>"New token"</button>
                        {has_live.then(|| view! {
                            <button type="button" class="secondary rotate-token"
                                disabled=move || busy.get()
                                on:click=move |_| on_action.run(rotate.clone())>
                                "Rotate token"
                            </button>
                        })}
                    </div>
                </td>
            </tr>
        }
    };

    view! {
        <div class="table-wrap">
            <table id="hosts-table" class="events">
                <thead>
                    <tr>
                        <th scope="col">"Host"</th>
                        <th scope="col">"Addresses"</th>
                        <th scope="col">"Last seen"</th>
                        <th scope="col">"Lag"</th>
                        <th scope="col">"Lines"</th>
                        <th scope="col">"Rejected"</th>
                        <th scope="col">"Tokens"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{move || hosts.get().into_iter().map(row).collect_view()}</tbody>
            </table>
        </div>
    }
}

/// One token: its first characters, when it was made, and whether it still works.
fn token_item(token: &TokenView, on_action: Callback<TokenAction>, busy: Signal<bool>) -> AnyView {
    let created = time::local(&token.created_at);
    let state = match &token.revoked_at {
        Some(at) => view! {
            <span class="state state-revoked" title=time::utc(at)>"revoked"</span>
        }
        .into_any(),
        None => {
            let revoke = TokenAction::Revoke {
                token_id: token.id,
                hint: token.hint.clone(),
            };
            view! {
                <button type="button" class="danger revoke-token" disabled=move || busy.get()
                    on:click=move |_| on_action.run(revoke.clone())>"Revoke"</button>
            }
            .into_any()
        }
    };
    view! {
        <li class="token" data-id=token.id.to_string()>
            <code>{format!("{}…", token.hint)}</code>
            <span class="muted">{format!(" {created} by {} ", token.created_by)}</span>
            {state}
        </li>
    }
    .into_any()
}
