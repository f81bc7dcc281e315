//! Who logged in on the host in the window: a mark per login on a strip that shares the
//! charts' time axis (a login next to a spike is easy to spot), and the logins as a table.

use leptos::prelude::*;
use opsportal_shared::history::LogEventView;

use crate::components::event_table::EventTable;
use crate::events;
use crate::scale::{TimeAxis, WIDTH};
use crate::svg;
use crate::time;

/// Height of the strip's drawing; the marks stand above the time labels.
const HEIGHT: f64 = 60.0;

#[component]
pub fn HostLogins(logins: Vec<LogEventView>, axis: TimeAxis) -> impl IntoView {
    let count = match logins.len() {
        0 => "Nobody logged in in this window.".to_owned(),
        1 => "1 login in this window.".to_owned(),
        n => format!("{n} logins in this window, newest first."),
    };
    let marks: Vec<Mark> = logins.iter().filter_map(Mark::of).collect();
    let node = NodeRef::<leptos::svg::Svg>::new();
    node.on_load(move |strip| draw(&svg::element(strip), axis, &marks));
    let rows = Signal::derive(move || logins.clone());

    view! {
        <section id="host-logins" class="card" aria-labelledby="host-logins-title">
            <h2 id="host-logins-title">"Logins"</h2>
            <svg class="strip" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img"
                aria-label="Logins over the window" node_ref=node></svg>
            <p class="muted list-summary">{count}</p>
            {move || (!rows.with(Vec::is_empty)).then(|| view! {
                <EventTable id="host-logins-table" rows audit=true />
            })}
        </section>
    }
}

/// One login's place on the strip, and who, from where and when, shown on hover.
struct Mark {
    secs: i64,
    flagged: bool,
    hover: String,
}

impl Mark {
    fn of(event: &LogEventView) -> Option<Self> {
        let who = event.person.as_deref().unwrap_or("nobody known");
        let from = events::source(event).unwrap_or_default();
        Some(Self {
            secs: (time::epoch_ms(&event.event_at)? / 1000.0) as i64,
            flagged: event.flagged,
            hover: format!(
                "{who} from {from}, {}",
                time::local_seconds(&event.event_at)
            ),
        })
    }
}

/// The time labels and a pin per login; flagged logins stand out.
fn draw(strip: &web_sys::Element, axis: TimeAxis, marks: &[Mark]) {
    svg::time_labels(strip, axis, HEIGHT);
    for mark in marks {
        let class = if mark.flagged {
            "login-mark flagged"
        } else {
            "login-mark"
        };
        let Some(group) = svg::add(strip, "g", &[("class", class)], "") else {
            continue;
        };
        let x = svg::fmt(axis.x(mark.secs));
        svg::add(&group, "title", &[], &mark.hover);
        let pin = [("x1", x.as_str()), ("x2", &x), ("y1", "10"), ("y2", "34")];
        svg::add(&group, "line", &pin, "");
        svg::add(
            &group,
            "circle",
            &[("cx", &x), ("cy", "10"), ("r", "4")],
            "",
        );
    }
}
