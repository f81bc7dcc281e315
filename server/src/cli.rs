//! Command-line interface of the `opsportal` binary.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::telemetry::LogFormat;

/// Self-service SSH certificates for people who sign in with Active Directory.
///
/// Settings come from a TOML file; any setting can be overridden by an environment variable
/// named OPSPORTAL__<SECTION>__<KEY> (for example OPSPORTAL__SERVER__LISTEN=0.0.0.0:8080).
/// Secrets are never given on the command line: the file names the files that hold them.
/// RUST_LOG sets the log filter (default: info).
#[derive(Debug, Parser)]
#[command(name = "opsportal", version)]
pub struct Cli {
    /// Configuration file.
    #[arg(
        short,
        long,
        env = "OPSPORTAL_CONFIG",
        default_value = "/etc/opsportal/opsportal.toml",
        global = true
    )]
    pub config: PathBuf,

    /// Log line format: text for people, json for log collectors.
    #[arg(
        long,
        env = "OPSPORTAL_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal until SIGINT or SIGTERM, then finish requests in flight and stop.
    Serve {
        /// Apply pending database migrations before serving.
        #[arg(long)]
        migrate: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load and check the configuration (and its secret files), print a summary, and exit.
    CheckConfig,
}
