//! The time left before a certificate expires, counted down every second.

use std::time::Duration;

use leptos::prelude::*;

use crate::time;

#[component]
pub fn Countdown(
    /// The end of validity, in milliseconds since the epoch.
    until_ms: f64,
) -> impl IntoView {
    let now = RwSignal::new(js_sys::Date::now());
    if let Ok(ticker) =
        set_interval_with_handle(move || now.set(js_sys::Date::now()), Duration::from_secs(1))
    {
        on_cleanup(move || ticker.clear());
    }
    let expired = move || now.get() >= until_ms;
    view! {
        <span id="countdown" class="countdown" class:expired=expired>
            {move || time::countdown(until_ms - now.get())}
        </span>
    }
}
