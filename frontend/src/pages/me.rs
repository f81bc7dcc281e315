//! `/me`: who you are to the portal: name, groups, roles and the SSH principals you may get.

use leptos::prelude::*;
use opsportal_shared::auth::Me;

use crate::components::signed_in::SignedIn;

#[component]
pub fn MePage() -> impl IntoView {
    view! { <SignedIn page=|me| view! { <Profile me=me /> } /> }
}

#[component]
fn Profile(me: Me) -> impl IntoView {
    let name = me
        .display_name
        .clone()
        .unwrap_or_else(|| me.username.clone());
    let roles: Vec<_> = me
        .roles
        .iter()
        .map(|role| view! { <li class="badge">{role.as_str()}</li> })
        .collect();
    let principals = if me.principals.is_empty() {
        view! { <p class="muted">"None: your groups grant no SSH access."</p> }.into_any()
    } else {
        let items: Vec<_> = me
            .principals
            .iter()
            .map(|p| view! { <li><code>{p.clone()}</code></li> })
            .collect();
        view! { <ul id="principals" class="chips">{items}</ul> }.into_any()
    };
    let groups: Vec<_> = me
        .groups
        .iter()
        .map(|g| view! { <li>{g.clone()}</li> })
        .collect();
    let expires = me.session_expires_at.replace('T', " ");

    view! {
        <section class="card">
            <h1 id="me-name">{name}</h1>
            <dl class="facts">
                <dt>"Account"</dt><dd id="me-username"><code>{me.username.clone()}</code></dd>
                <dt>"E-mail"</dt><dd>{me.mail.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Directory id"</dt><dd><code>{me.object_guid.clone()}</code></dd>
                <dt>"Session ends"</dt><dd>{expires}" at the latest"</dd>
            </dl>
        </section>
        <section class="card">
            <h2>"Roles"</h2>
            <ul id="roles" class="badges">{roles}</ul>
            <h2>"SSH principals you may request"</h2>
            {principals}
            <h2>"Groups"</h2>
            <ul class="groups">{groups}</ul>
        </section>
    }
}
