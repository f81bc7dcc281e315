//! The command line. Every option can also be set by an `OPSPORTAL_AGENT_*` environment
//! variable, which suits a systemd unit's `Environment=` lines.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Reports listen queues, descriptor limits, IPVS state and sshd access facts to opsportal.
#[derive(Debug, Clone, Parser)]
#[command(name = "opsportal-agent", version, about, long_about = None)]
pub struct Config {
    /// The portal's base URL (https://, or http:// to loopback); reports go to
    /// <URL>/api/ingest/metrics. Without it, reports are only written to --textfile.
    #[arg(long, env = "OPSPORTAL_AGENT_PORTAL", requires = "token_file")]
    pub portal: Option<reqwest::Url>,

    /// File holding the host's bearer token for the portal (read at every send).
    #[arg(long, env = "OPSPORTAL_AGENT_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,

    /// PEM file of the CA(s) to trust for the portal instead of the system's roots.
    #[arg(long, env = "OPSPORTAL_AGENT_CA_FILE")]
    pub ca_file: Option<PathBuf>,

    /// Directory for the agent's id, sequence counter and unsent reports.
    #[arg(
        long,
        env = "OPSPORTAL_AGENT_SPOOL_DIR",
        default_value = "/var/lib/opsportal-agent"
    )]
    pub spool_dir: PathBuf,

    /// Most unsent reports kept; beyond it the oldest are dropped (a day at 10 s).
    #[arg(
        long,
        env = "OPSPORTAL_AGENT_SPOOL_MAX_REPORTS",
        default_value_t = 8640
    )]
    pub spool_max_reports: usize,

    /// Most bytes of unsent reports kept; beyond it the oldest are dropped.
    #[arg(long, env = "OPSPORTAL_AGENT_SPOOL_MAX_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub spool_max_bytes: u64,

    /// Seconds between two reports.
    #[arg(long, env = "OPSPORTAL_AGENT_INTERVAL_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub interval_secs: u64,

    /// Seconds to wait for the portal's answer to one report.
    #[arg(long, env = "OPSPORTAL_AGENT_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_secs: u64,

    /// How many processes to report by open descriptors over their soft limit.
    #[arg(long, env = "OPSPORTAL_AGENT_TOP_FDS", default_value_t = 10)]
    pub top_fds: usize,

    /// The sshd configuration to read access facts from.
    #[arg(
        long,
        env = "OPSPORTAL_AGENT_SSHD_CONFIG",
        default_value = "/etc/ssh/sshd_config"
    )]
    pub sshd_config: PathBuf,

    /// The passwd file listing local accounts.
    #[arg(long, env = "OPSPORTAL_AGENT_PASSWD", default_value = "/etc/passwd")]
    pub passwd: PathBuf,

    /// Principals the portal hands out; local accounts with these names are reported.
    #[arg(
        long,
        env = "OPSPORTAL_AGENT_PRINCIPALS",
        value_delimiter = ',',
        default_value = "root,zone-webservers,zone-databases,root-everywhere"
    )]
    pub principals: Vec<String>,

    /// Also write the numbers to this file for node_exporter's textfile collector
    /// (name it *.prom inside the collector's directory).
    #[arg(long, env = "OPSPORTAL_AGENT_TEXTFILE")]
    pub textfile: Option<PathBuf>,

    /// Collect once, print the JSON report to stdout and exit; sends nothing, writes no state.
    #[arg(long)]
    pub once: bool,

    /// Follow this log file (e.g. /var/log/auth.log or /var/log/secure) and send its lines to
    /// <URL>/api/ingest/logs, for hosts that do not forward sshd's lines with rsyslog. Off
    /// unless given; repeat it (or separate paths by commas in the variable) for several
    /// files. The read position is kept in <SPOOL_DIR>/tail/ and only moves once the portal
    /// has stored the lines, so neither a restart nor an unreachable portal loses or doubles
    /// lines; rotation by rename and by truncation is followed. Needs --portal.
    #[arg(
        long = "tail-log",
        value_name = "PATH",
        env = "OPSPORTAL_AGENT_TAIL_LOG",
        value_delimiter = ',',
        requires = "portal",
        conflicts_with = "once"
    )]
    pub tail_log: Vec<PathBuf>,

    /// Where to start in a followed file the agent has no checkpoint for: at its beginning
    /// (every line it holds is sent) or at its end (only lines written from now on).
    #[arg(
        long,
        env = "OPSPORTAL_AGENT_TAIL_LOG_START",
        value_enum,
        default_value_t = TailStart::Beginning
    )]
    pub tail_log_start: TailStart,

    /// Most lines in one batch of a followed file.
    #[arg(long, env = "OPSPORTAL_AGENT_TAIL_LOG_BATCH_LINES", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub tail_log_batch_lines: u64,

    /// Most bytes of lines in one batch; keep it well below the portal's
    /// ingest.max_batch_bytes (1 MiB by default), which counts the JSON around each line.
    #[arg(long, env = "OPSPORTAL_AGENT_TAIL_LOG_BATCH_BYTES", default_value_t = 256 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..))]
    pub tail_log_batch_bytes: u64,

    /// Longest line sent; a longer one is cut to this and the cut is logged and counted.
    /// Keep it at or below the portal's ingest.max_line_bytes (8192 by default).
    #[arg(long, env = "OPSPORTAL_AGENT_TAIL_LOG_MAX_LINE_BYTES", default_value_t = 8192,
          value_parser = clap::value_parser!(u64).range(256..=1024 * 1024))]
    pub tail_log_max_line_bytes: u64,

    /// Milliseconds between two looks at a followed file that had nothing new.
    #[arg(long, env = "OPSPORTAL_AGENT_TAIL_LOG_POLL_MS", default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(10..))]
    pub tail_log_poll_ms: u64,

    /// Seconds a followed file is still read after its path came to name another file, for
    /// lines its writer adds before it reopens the path (rsyslog until logrotate's HUP).
    #[arg(
        long,
        env = "OPSPORTAL_AGENT_TAIL_LOG_ROTATE_WAIT_SECS",
        default_value_t = 5
    )]
    pub tail_log_rotate_wait_secs: u64,

    /// Where to read netstat and ip_vs files (tests point it at fixtures).
    #[arg(long, env = "OPSPORTAL_AGENT_PROC_NET", default_value = "/proc/net")]
    pub proc_net: PathBuf,
}

/// Where following a file without a checkpoint begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TailStart {
    Beginning,
    End,
}

impl Config {
    /// Checks what clap cannot: that a long-running agent has somewhere to send its reports.
    pub fn validate(&self) -> Result<(), String> {
        if !self.once && self.portal.is_none() && self.textfile.is_none() {
            return Err(
                "nothing to do: give --portal (with --token-file), --textfile, or --once".into(),
            );
        }
        if self.spool_max_reports == 0 {
            return Err("--spool-max-reports must be at least 1".into());
        }
        if self.tail_log_batch_bytes < self.tail_log_max_line_bytes {
            return Err("--tail-log-batch-bytes must be at least --tail-log-max-line-bytes".into());
        }
        if let Some(path) = self.tail_log.iter().find(|p| !p.is_absolute()) {
            return Err(format!(
                "--tail-log needs an absolute path, not {}",
                path.display()
            ));
        }
        let mut paths = self.tail_log.clone();
        paths.sort();
        if paths.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err("--tail-log names the same file twice".into());
        }
        Ok(())
    }
}
