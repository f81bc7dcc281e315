//! The frame around every page: the product name, navigation by role, and who is signed in.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use opsportal_shared::auth::Role;

use crate::api;
use crate::auth::use_auth;

/// A navigation entry, shown to people holding any of `roles` (or everyone when empty).
struct NavItem {
    href: &'static str,
    label: &'static str,
    roles: &'static [Role],
}

const NAV: &[NavItem] = &[
    NavItem {
        href: "/me",
        label: "My access",
        roles: &[],
    },
    NavItem {
        href: "/certificates",
        label: "Certificates",
        roles: &[Role::User],
    },
    NavItem {
        href: "/history",
        label: "History",
        roles: &[],
    },
    NavItem {
        href: "/admin/certificates",
        label: "All certificates",
        roles: &[Role::Admin, Role::Auditor],
    },
    NavItem {
        href: "/audit",
        label: "Audit",
        roles: &[Role::Admin, Role::Auditor],
    },
    NavItem {
        href: "/admin/hosts",
        label: "Hosts",
        roles: &[Role::Admin],
    },
    NavItem {
        href: "/admin/fleet",
        label: "Fleet",
        roles: &[Role::Admin, Role::Auditor],
    },
];

#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();

    let sign_out = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            // Signed out locally even if the server is unreachable; its session then idles out.
            let _ = api::sign_out().await;
            auth.set_signed_out();
            navigate("/sign-in", NavigateOptions::default());
        });
    };

    let nav = move || {
        auth.me().map(|me| {
            let items: Vec<_> = NAV
                .iter()
                .filter(|item| {
                    item.roles.is_empty() || item.roles.iter().any(|r| me.roles.contains(r))
                })
                .map(|item| view! { <A href=item.href>{item.label}</A> })
                .collect();
            let name = me
                .display_name
                .clone()
                .unwrap_or_else(|| me.username.clone());
            view! {
                <nav class="nav" aria-label="Main">{items}</nav>
                <div class="who">
                    <span class="who-name">{name}</span>
                    <button class="link-button" on:click=sign_out.clone()>"Sign out"</button>
                </div>
            }
        })
    };

    view! {
        <header class="topbar">
            <a class="brand" href="/">"opsportal"</a>
            {nav}
        </header>
        <main class="content">{children()}</main>
    }
}
