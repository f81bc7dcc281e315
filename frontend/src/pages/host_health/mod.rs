//! `/admin/hosts/:id/health`: one host over a window of time, for admins and auditors: what is
//! wrong and what to do about it, its numbers as charts, who logged in on it meanwhile, and how
//! its sshd lets certificates in.
//!
//! The page does not refresh itself: the server records every view of a host's logins in the
//! audit trail, and a timer would fill it with views nobody made.

mod charts;
mod findings;
mod logins;
mod ssh_facts;
mod window_select;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use opsportal_shared::auth::{Me, Role};
use opsportal_shared::health::HostHealthView;

use self::charts::HealthCharts;
use self::findings::Findings;
use self::logins::HostLogins;
use self::ssh_facts::SshFactsCard;
use self::window_select::{WINDOWS, WindowSelect};
use crate::api::{self, ApiError};
use crate::components::error_note::ErrorNote;
use crate::components::health_badge::{HealthBadge, health};
use crate::components::signed_in::SignedIn;
use crate::scale::TimeAxis;
use crate::time;

#[component]
pub fn HostHealthPage() -> impl IntoView {
    view! { <SignedIn page=for_role /> }
}

fn for_role(me: Me) -> AnyView {
    if me.roles.contains(&Role::Admin) || me.roles.contains(&Role::Auditor) {
        view! { <HostHealth /> }.into_any()
    } else {
        view! {
            <section class="card">
                <h1>"Host health"</h1>
                <p id="not-allowed" class="muted">"This page is for admins and auditors."</p>
            </section>
        }
        .into_any()
    }
}

#[component]
fn HostHealth() -> impl IntoView {
    let params = use_params_map();
    let host_id = Memo::new(move |_| params.with(|p| p.get("id")?.parse::<i64>().ok()));
    let window = RwSignal::new(WINDOWS[0].0);
    let answer = LocalResource::new(move || {
        let (id, span) = (host_id.get(), window.get());
        async move {
            let id = id.ok_or_else(|| ApiError::local("There is no such host."))?;
            let to = time::now_ms();
            let from = to - span as f64 * 1000.0;
            api::host_health(id, time::rfc3339(from), time::rfc3339(to)).await
        }
    });

    let shown = move || answer.get().and_then(Result::ok);
    let error = Signal::derive(move || answer.get().and_then(Result::err));
    let title = move || {
        shown().map_or_else(
            || "Host health".to_owned(),
            |view| format!("{} health", view.host.name),
        )
    };
    let badge = move || {
        shown().map(|view| {
            let (class, words) = health(&view.host);
            view! { <HealthBadge class words /> }
        })
    };

    view! {
        <div id="host-health" class="stack">
            <section class="card" aria-labelledby="host-health-title">
                <div class="page-head">
                    <h1 id="host-health-title">{title}</h1>
                    {badge}
                    <WindowSelect window />
                </div>
                {move || shown().map(|view| view! { <Reported view /> })}
                <ErrorNote error />
                <h2>"Findings"</h2>
                {move || shown().map(|view| view! { <Findings findings=view.host.findings /> })}
            </section>
            {move || shown().map(body)}
        </div>
    }
}

/// When the host last reported, with which agent, and the name it gives itself.
#[component]
fn Reported(view: HostHealthView) -> impl IntoView {
    let host = view.host;
    let text = match (&host.last_report_at, &host.agent_version) {
        (Some(at), version) => format!(
            "Last report {} ({}), agent {}{}.",
            time::local_seconds(at),
            time::ago(((time::now_ms() - time::epoch_ms(at).unwrap_or(0.0)) / 1000.0) as i64),
            version.as_deref().unwrap_or("of unknown version"),
            host.hostname
                .map(|name| format!(", calling itself {name}"))
                .unwrap_or_default()
        ),
        (None, _) => "No report from this host yet: is its agent running with a token?".into(),
    };
    view! { <p id="host-reported" class="muted">{text}</p> }
}

/// The charts, logins and sshd facts of one answer, all on the window the server answered for.
fn body(view: HostHealthView) -> impl IntoView {
    let secs = |at: &str| time::epoch_ms(at).map_or(0, |ms| (ms / 1000.0) as i64);
    let axis = TimeAxis {
        from: secs(&view.from),
        to: secs(&view.to),
    };
    let logins = view.logins.clone();
    let ssh = view.ssh.clone();
    view! {
        <HealthCharts view axis />
        <HostLogins logins axis />
        <SshFactsCard ssh />
    }
}
