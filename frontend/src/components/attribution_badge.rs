//! Who a login was attributed to, and how surely, as a coloured label with its meaning on hover.

use leptos::prelude::*;

use crate::events;

#[component]
pub fn AttributionBadge(attribution: Option<String>) -> impl IntoView {
    attribution.map(|name| {
        let meaning = events::attribution_meaning(&name);
        let class = format!("state attribution attribution-{name}");
        view! { <span class=class title=meaning>{name}</span> }
    })
}
