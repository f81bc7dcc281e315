//! `/`: sends people to their page or to sign-in.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::auth::{Auth, use_auth};

#[component]
pub fn Home() -> impl IntoView {
    let auth = use_auth();
    move || match auth.0.get() {
        Auth::Unknown => view! { <p class="muted">"Loading…"</p> }.into_any(),
        Auth::SignedOut => view! { <Redirect path="/sign-in" /> }.into_any(),
        Auth::SignedIn(_) => view! { <Redirect path="/me" /> }.into_any(),
    }
}
