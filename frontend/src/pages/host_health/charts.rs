//! The host's charts over the chosen window: accept queues against their backlogs, listen
//! overflows and drops, descriptors against their limits, and IPVS connections against the
//! connection table.

use leptos::prelude::*;
use opsportal_shared::health::{HostHealthView, ListenerSeries};

use crate::components::chart::{Chart, Line, Threshold};
use crate::scale::{TimeAxis, Unit};
use crate::time;

/// Listeners drawn, one chart each; the server sends the fullest queues first.
const LISTENERS: usize = 3;
/// Processes drawn on the descriptor chart, the closest to their limits first.
const PROCESSES: usize = 4;
/// Where a process counts as near its limit: the portal's default `health.fd_warning_ratio`,
/// which the API does not send.
const FD_WARNING: f64 = 0.8;
/// The tone of dashed limits, a quiet grey beside the coloured lines.
const LIMIT_TONE: usize = 5;

#[component]
pub fn HealthCharts(view: HostHealthView, axis: TimeAxis) -> impl IntoView {
    let mut queues: Vec<AnyView> = view
        .listeners
        .iter()
        .take(LISTENERS)
        .map(|listener| queue_chart(listener, axis))
        .collect();
    if queues.is_empty() {
        queues.push(
            view! {
                <Chart kind="queue" title="Accept queue" axis unit=Unit::Count lines=Vec::new()
                    empty="no listeners reported in this window" />
            }
            .into_any(),
        );
    }
    let rates = vec![
        line("ListenOverflows", view.overflow_rate, 0),
        line("ListenDrops", view.drop_rate, 1),
    ];
    let mut fds: Vec<Line> = view
        .processes
        .into_iter()
        .take(PROCESSES)
        .enumerate()
        .map(|(i, p)| line(&format!("{} (pid {})", p.comm, p.pid), p.fd_ratio, i))
        .collect();
    fds.push(line("system file handles", view.file_handles_ratio, 4));
    let ipvs = vec![
        line("connections", view.ipvs_connections, 0),
        Line {
            dashed: true,
            ..line("connection table size", view.ipvs_table_size, LIMIT_TONE)
        },
    ];
    // Said only when hourly highs were drawn: a host that began reporting in the window has
    // nothing before its first report at all.
    let hourly = |since: &str| {
        let since = time::epoch_ms(since).map_or(i64::MIN, |ms| (ms / 1000.0) as i64);
        rates
            .iter()
            .any(|line| line.points.first().is_some_and(|p| p.t < since))
    };
    let rollups = view.raw_since.filter(|since| hourly(since)).map(|since| {
        view! {
            <p class="hint">
                "Before " {time::local(&since)} " only hourly highs are kept, without the "
                "lines per listener and per process."
            </p>
        }
    });

    view! {
        <section class="card charts" aria-labelledby="charts-title">
            <h2 id="charts-title">"Over time"</h2>
            {rollups}
            {queues}
            <Chart kind="rates" title="Handshakes dropped at listeners, per second" axis
                unit=Unit::PerSecond lines=rates />
            <Chart kind="fds" title="Open descriptors against the limit" axis unit=Unit::Ratio
                lines=fds threshold=Threshold { value: FD_WARNING, label: "near the limit" } />
            <Chart kind="ipvs" title="IPVS (LVS) connections" axis unit=Unit::Count lines=ipvs
                empty="IPVS not loaded" />
        </section>
    }
}

fn line(label: &str, points: Vec<opsportal_shared::health::Point>, tone: usize) -> Line {
    Line {
        label: label.to_owned(),
        points,
        tone,
        dashed: false,
    }
}

/// A listener's queue, with its backlog dashed: the queue reaching it means dropped handshakes.
fn queue_chart(listener: &ListenerSeries, axis: TimeAxis) -> AnyView {
    let title = match &listener.comm {
        Some(comm) => format!("Accept queue of {} ({comm})", listener.local),
        None => format!("Accept queue of {}", listener.local),
    };
    let lines = vec![
        line("waiting to be accepted", listener.accept_queue.clone(), 0),
        Line {
            dashed: true,
            ..line("backlog", listener.backlog.clone(), LIMIT_TONE)
        },
    ];
    view! { <Chart kind="queue" title axis unit=Unit::Count lines /> }.into_any()
}
