//! The window of time the host page shows, from the last hour to the last week.

use leptos::prelude::*;

/// The windows offered, in seconds, with their words.
pub const WINDOWS: [(i64, &str); 4] = [
    (3600, "last 1 h"),
    (6 * 3600, "last 6 h"),
    (24 * 3600, "last 24 h"),
    (7 * 86_400, "last 7 days"),
];

#[component]
pub fn WindowSelect(window: RwSignal<i64>) -> impl IntoView {
    let options = WINDOWS
        .iter()
        .map(|(secs, words)| {
            let secs = *secs;
            view! {
                <option value=secs.to_string() selected=move || window.get() == secs>
                    {*words}
                </option>
            }
        })
        .collect_view();
    let choose = move |ev: leptos::ev::Event| {
        if let Ok(secs) = event_target_value(&ev).parse() {
            window.set(secs);
        }
    };
    view! {
        <div class="field window-field">
            <label for="window-select">"Show"</label>
            <select id="window-select" on:change=choose>{options}</select>
        </div>
    }
}
