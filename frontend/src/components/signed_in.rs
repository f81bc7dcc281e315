//! The sign-in gate of every page that needs a person: a wait while the session is checked,
//! the sign-in page when there is none, else the page itself.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use opsportal_shared::auth::Me;

use crate::auth::{Auth, use_auth};

#[component]
pub fn SignedIn<F, V>(page: F) -> impl IntoView
where
    F: Fn(Me) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let auth = use_auth();
    move || match auth.0.get() {
        Auth::Unknown => view! { <p class="muted">"Loading…"</p> }.into_any(),
        Auth::SignedOut => view! { <Redirect path="/sign-in" /> }.into_any(),
        Auth::SignedIn(me) => page(me).into_any(),
    }
}
