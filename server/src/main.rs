//! The `opsportal` binary: parse the command line, set up logging, run the command.

use anyhow::Context;
use clap::Parser;
use opsportal::cli::{Cli, Command};
use opsportal::config::Config;
use opsportal::{Portal, db, telemetry};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);

    let config = Config::load(&cli.config)
        .with_context(|| format!("configuration {}", cli.config.display()))?;

    match cli.command {
        Command::CheckConfig => {
            config.directory.bind_password()?;
            config.database.password()?;
            println!("configuration {} is valid", cli.config.display());
            Ok(())
        }
        Command::Migrate => {
            let pool = db::pool(&config.database)?;
            db::MIGRATOR
                .run(&pool)
                .await
                .context("applying migrations")?;
            tracing::info!("database schema is up to date");
            Ok(())
        }
        Command::Serve { migrate } => {
            if migrate {
                let pool = db::pool(&config.database)?;
                db::MIGRATOR
                    .run(&pool)
                    .await
                    .context("applying migrations")?;
            }
            let listen = config.server.listen;
            let portal = Portal::build(config).await?;
            let listener = TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            tracing::info!(%listen, "serving");
            portal.serve(listener, shutdown_signal()).await?;
            tracing::info!("stopped");
            Ok(())
        }
    }
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
