//! The agent's loop: every interval, collect, stamp, write the textfile, spool and send; and,
//! beside it, one task per followed log file. A signal stops them all.

use std::time::Duration;

use anyhow::Context;
use opsportal_shared::health::HostReport;
use tokio::time::MissedTickBehavior;

use crate::collect::{self, OwnerCache, Sources, SshdSources};
use crate::config::Config;
use crate::push::{PortalClient, PortalSettings, Pusher, Spool, SpoolLimits};
use crate::report::{self, Stamp};
use crate::state::AgentState;
use crate::tail::{self, Limits, TailSettings};
use crate::textfile;

/// How long a stopping agent waits for its file tasks to write their last checkpoint.
const TAIL_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs until SIGTERM or Ctrl-C, or once with `--once`.
pub async fn run(config: Config) -> anyhow::Result<()> {
    if config.once {
        return once(&config).await;
    }
    let mut state = AgentState::open(&config.spool_dir)?;
    let client = portal_client(&config)?;
    let mut pusher = match &client {
        Some(client) => Some(pusher(&config, client.clone())?),
        None => None,
    };
    tracing::info!(
        agent_id = state.agent_id(),
        portal = config.portal.as_ref().map(|u| u.as_str()),
        interval_secs = config.interval_secs,
        tail_logs = config.tail_log.len(),
        "agent started"
    );
    let (stop_tails, tails_stop) = tokio::sync::watch::channel(false);
    let tails: Vec<_> = match &client {
        Some(client) => config
            .tail_log
            .iter()
            .map(|path| {
                let settings = tail_settings(&config, path, state.agent_id());
                tail::spawn(settings, client.clone(), tails_stop.clone())
            })
            .collect(),
        None => Vec::new(),
    };

    let mut ticker = tokio::time::interval(Duration::from_secs(config.interval_secs));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let mut owners = OwnerCache::default();
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = &mut shutdown => break,
        }
        // A tick cancelled by a signal is safe: a report is either in the spool or not yet made.
        tokio::select! {
            result = tick(&config, &mut owners, &mut state, pusher.as_mut()) => {
                if let Err(error) = result {
                    tracing::error!(error = format!("{error:#}"), "report not made");
                }
            }
            _ = &mut shutdown => break,
        }
    }
    tracing::info!("agent stopping");
    stop_tails.send_replace(true);
    for task in tails {
        if tokio::time::timeout(TAIL_STOP_TIMEOUT, task).await.is_err() {
            tracing::warn!("a file task did not stop in time; its checkpoint stays where it was");
        }
    }
    Ok(())
}

async fn tick(
    config: &Config,
    owners: &mut OwnerCache,
    state: &mut AgentState,
    mut pusher: Option<&mut Pusher>,
) -> anyhow::Result<()> {
    let snapshot = collect_blocking(config, owners).await?;
    let seq = state.next_seq()?;
    let (spool_dropped, rejected) = pusher.as_deref_mut().map_or((0, 0), Pusher::take_counts);
    let stamp = Stamp {
        agent_id: state.agent_id().to_string(),
        seq,
        interval_secs: config.interval_secs,
        spool_dropped,
        rejected,
    };
    let report = report::build(snapshot, stamp);
    write_textfile(config, &report);

    let Some(pusher) = pusher else { return Ok(()) };
    let body = serde_json::to_vec(&report).context("encoding the report")?;
    pusher.enqueue(seq, &body)?;
    let drained = pusher.drain().await?;
    tracing::debug!(
        seq,
        stored = drained.stored,
        pending = drained.pending,
        "report pushed"
    );
    Ok(())
}

async fn once(config: &Config) -> anyhow::Result<()> {
    let snapshot = collect_blocking(config, &mut OwnerCache::default()).await?;
    let (agent_id, last_seq) = AgentState::peek(&config.spool_dir);
    let stamp = Stamp {
        agent_id,
        seq: last_seq,
        interval_secs: config.interval_secs,
        spool_dropped: 0,
        rejected: 0,
    };
    let report = report::build(snapshot, stamp);
    write_textfile(config, &report);
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Collects on a blocking thread, taking `owners` along and bringing it back (a panic loses
/// only the cache, which the next walk rebuilds).
async fn collect_blocking(
    config: &Config,
    owners: &mut OwnerCache,
) -> anyhow::Result<collect::Snapshot> {
    let sources = sources(config);
    let mut cache = std::mem::take(owners);
    // Netlink and /proc reads block; keep them off the executor.
    let (cache, snapshot) = tokio::task::spawn_blocking(move || {
        let snapshot = collect::collect_with(&sources, &mut cache);
        (cache, snapshot)
    })
    .await
    .context("collector panicked")?;
    *owners = cache;
    Ok(snapshot)
}

fn write_textfile(config: &Config, report: &HostReport) {
    let Some(path) = &config.textfile else { return };
    if let Err(error) = textfile::write(path, report) {
        tracing::warn!(path = %path.display(), %error, "textfile not written");
    }
}

fn sources(config: &Config) -> Sources {
    Sources {
        top_fds: config.top_fds,
        proc_net: config.proc_net.clone(),
        file_nr: "/proc/sys/fs/file-nr".into(),
        sshd: SshdSources {
            sshd_config: config.sshd_config.clone(),
            passwd: config.passwd.clone(),
            principals: config.principals.clone(),
        },
    }
}

fn portal_client(config: &Config) -> anyhow::Result<Option<PortalClient>> {
    let (Some(url), Some(token_file)) = (&config.portal, &config.token_file) else {
        return Ok(None);
    };
    let settings = PortalSettings {
        url: url.clone(),
        token_file: token_file.clone(),
        ca_file: config.ca_file.clone(),
        timeout: Duration::from_secs(config.timeout_secs),
    };
    Ok(Some(PortalClient::new(&settings)?))
}

fn pusher(config: &Config, client: PortalClient) -> anyhow::Result<Pusher> {
    let limits = SpoolLimits {
        max_reports: config.spool_max_reports,
        max_bytes: config.spool_max_bytes,
    };
    let spool = Spool::open(&config.spool_dir.join("reports"), limits)?;
    Ok(Pusher::new(spool, client))
}

fn tail_settings(config: &Config, path: &std::path::Path, agent_id: &str) -> TailSettings {
    TailSettings {
        path: path.to_path_buf(),
        spool_dir: config.spool_dir.clone(),
        agent_id: agent_id.to_owned(),
        start: config.tail_log_start,
        limits: Limits {
            batch_lines: config.tail_log_batch_lines as usize,
            batch_bytes: config.tail_log_batch_bytes as usize,
            max_line_bytes: config.tail_log_max_line_bytes as usize,
        },
        poll: Duration::from_millis(config.tail_log_poll_ms),
        rotate_wait: Duration::from_secs(config.tail_log_rotate_wait_secs),
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        },
        Err(error) => {
            tracing::warn!(%error, "SIGTERM cannot be handled, only Ctrl-C stops the agent cleanly");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
