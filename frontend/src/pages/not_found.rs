//! Any path the app does not know.

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <a href="/">"Go to the start page."</a></p>
        </section>
    }
}
