//! A certificate's state as a coloured label whose text is the state's API name.

use leptos::prelude::*;
use opsportal_shared::certs::CertificateState;

#[component]
pub fn StateBadge(state: CertificateState) -> impl IntoView {
    let name = state.as_str();
    view! { <span class=format!("state state-{name}")>{name}</span> }
}
