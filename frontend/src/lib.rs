//! The opsportal browser app: Leptos, rendered on the client, compiled to WebAssembly.
//!
//! [`App`] holds the routes; `pages/` has one module per route, `components/` the parts they
//! share, [`api`] every call to the server and [`auth`] who is signed in. [`browser`] wraps the
//! browser features the pages use, [`keygen`] makes SSH key pairs, [`time`] and [`events`]
//! put times and log events in words, and [`scale`] and
//! [`svg`] place and draw the health charts.

mod api;
mod auth;
mod browser;
mod components;
mod events;
mod keygen;
mod pages;
mod scale;
mod svg;
mod time;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::components::shell::Shell;
use crate::pages::{
    admin_certificates::AdminCertificatesPage, admin_hosts::AdminHostsPage, audit::AuditPage,
    certificates::CertificatesPage, fleet::FleetPage, history::HistoryPage, home::Home,
    host_health::HostHealthPage, me::MePage, not_found::NotFound, sign_in::SignInPage,
};

/// Entry point, run by wasm-bindgen when the module loads.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
pub fn App() -> impl IntoView {
    auth::provide();
    view! {
        <Router>
            <Shell>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Home />
                    <Route path=path!("/sign-in") view=SignInPage />
                    <Route path=path!("/me") view=MePage />
                    <Route path=path!("/certificates") view=CertificatesPage />
                    <Route path=path!("/history") view=HistoryPage />
                    <Route path=path!("/admin/certificates") view=AdminCertificatesPage />
                    <Route path=path!("/audit") view=AuditPage />
                    <Route path=path!("/admin/hosts") view=AdminHostsPage />
                    <Route path=path!("/admin/hosts/:id/health") view=HostHealthPage />
                    <Route path=path!("/admin/fleet") view=FleetPage />
                </Routes>
            </Shell>
        </Router>
    }
}
