//! `/admin/hosts`: the hosts that send their logs, for admins: their addresses and ingest
//! health, adding one, and issuing, rotating and revoking their tokens.

mod add_host;
mod host_table;
mod new_secret;
mod token_action;

use leptos::prelude::*;
use leptos::task::spawn_local;
use opsportal_shared::auth::{Me, Role};

use self::add_host::AddHost;
use self::host_table::HostTable;
use self::new_secret::{NewSecret, Shown};
use self::token_action::TokenAction;
use crate::api::{self, ApiError};
use crate::browser;
use crate::components::error_note::ErrorNote;
use crate::components::signed_in::SignedIn;

#[component]
pub fn AdminHostsPage() -> impl IntoView {
    view! { <SignedIn page=for_role /> }
}

fn for_role(me: Me) -> AnyView {
    if me.roles.contains(&Role::Admin) {
        view! { <Hosts /> }.into_any()
    } else {
        view! {
            <section class="card">
                <h1>"Hosts"</h1>
                <p id="not-allowed" class="muted">"This page is for admins."</p>
            </section>
        }
        .into_any()
    }
}

#[component]
fn Hosts() -> impl IntoView {
    let hosts = LocalResource::new(api::hosts);
    let shown = RwSignal::new(None::<Shown>);
    let notice = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);

    let act = Callback::new(move |action: TokenAction| {
        if busy.get_untracked() || !action.confirmed() {
            return;
        }
        busy.set(true);
        notice.set(None);
        error.set(None);
        spawn_local(async move {
            let result = action.run().await;
            busy.set(false);
            match result {
                Ok(Some(secret)) => {
                    shown.set(Some(secret));
                    browser::scroll_to("new-token");
                }
                Ok(None) => {
                    if shown.with_untracked(|s| s.as_ref().is_some_and(|s| action.revokes(s))) {
                        shown.set(None);
                    }
                    notice.set(action.revoked());
                }
                Err(e) => error.set(Some(e)),
            }
            hosts.refetch();
        });
    });
    let added = Callback::new(move |name: String| {
        notice.set(Some(format!(
            "{name} added. Give it a token to send its logs over HTTP."
        )));
        hosts.refetch();
    });

    let rows = Signal::derive(move || hosts.get().and_then(Result::ok).unwrap_or_default());
    let empty = move || {
        hosts
            .get()
            .is_some_and(|r| r.is_ok_and(|rows| rows.is_empty()))
            .then(|| view! { <p class="muted">"No hosts yet: add the first one below."</p> })
    };
    let shown_error =
        Signal::derive(move || error.get().or_else(|| hosts.get().and_then(Result::err)));

    view! {
        <section class="card" aria-labelledby="hosts-title">
            <h1 id="hosts-title">"Hosts"</h1>
            <p class="lead">
                "Hosts that send their sshd logs. Syslog is known by the address it comes from; "
                "logs over HTTP by the host's token."
            </p>
            {move || notice.get().map(|text| view! {
                <p id="hosts-notice" class="notice" role="status">{text}</p>
            })}
            <ErrorNote error=shown_error />
            <HostTable hosts=rows on_action=act busy />
            {empty}
        </section>
        {move || shown.get().map(|secret| view! {
            <NewSecret secret on_done=Callback::new(move |()| shown.set(None)) />
        })}
        <AddHost on_added=added />
    }
}
