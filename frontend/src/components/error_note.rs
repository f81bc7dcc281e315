//! An error in plain words, with the request id an operator can look up.

use leptos::prelude::*;

use crate::api::ApiError;

#[component]
pub fn ErrorNote(#[prop(into)] error: Signal<Option<ApiError>>) -> impl IntoView {
    move || {
        error.get().map(|error| {
            let reference = error
                .request_id
                .map(|id| view! { <p class="error-ref">"Reference: " <code>{id}</code></p> });
            view! {
                <div class="error-note" role="alert">
                    <p>{error.message}</p>
                    {reference}
                </div>
            }
        })
    }
}
