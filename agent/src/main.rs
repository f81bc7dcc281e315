//! The `opsportal-agent` command: parse the configuration, set up logging, run the loop.

use clap::{CommandFactory, Parser};
use opsportal_agent::config::Config;
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    if let Err(message) = config.validate() {
        Config::command()
            .error(clap::error::ErrorKind::MissingRequiredArgument, message)
            .exit();
    }
    // Logs go to stderr, so that `--once` output on stdout stays plain JSON.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("OPSPORTAL_AGENT_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // One thread is plenty for one report every few seconds, and keeps the agent small.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(opsportal_agent::run::run(config))
}
