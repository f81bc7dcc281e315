//! `cargo xtask`: starts the real-service stack and runs the demo or the tests against it.

mod demo;
mod frontend;
mod paths;
mod setup;
mod sh;
mod stack;

use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use xtask::stack_info::STACK_ENV;

/// Development and test orchestration for opsportal.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Build the frontend, start the stack and the portal, and print the URL and the demo
    /// accounts. Ctrl-C stops everything.
    Demo,
    /// Start the stack, run every test against it, stop it. Extra arguments go to
    /// `cargo test` (e.g. `cargo xtask test -- --test-threads 1`).
    Test {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Start the stack alone and print its settings, until Ctrl-C.
    Stack,
    /// Measure the budgets (web app size, first render, memory, sign-in time, certificate
    /// throughput) against the stack and a release build; writes target/bench/*.md.
    Bench,
    /// Build the browser app into frontend/dist.
    Frontend,
    /// Install what the build and the stack need (Debian packages, WebAssembly tools, OpenBao).
    Setup,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Task::Demo => demo::run(),
        Task::Test { args } => test(&args),
        Task::Stack => stack_only(),
        Task::Bench => bench(),
        Task::Frontend => frontend::build(),
        Task::Setup => {
            setup::debian_packages()?;
            setup::wasm_tools()?;
            setup::openbao().map(drop)
        }
    }
}

fn test(args: &[String]) -> anyhow::Result<()> {
    frontend::build()?;
    // Some tests run the portal and the agent as processes of their own.
    sh::run_visible(Command::new("cargo").current_dir(paths::root()).args([
        "build",
        "--bins",
        "--package",
        "opsportal-server",
        "--package",
        "opsportal-agent",
    ]))?;
    // The web app's own unit tests (pure functions), built for this machine.
    sh::run_visible(Command::new("cargo").current_dir(paths::root()).args([
        "test",
        "--package",
        "opsportal-frontend",
        "--lib",
    ]))?;
    let stack = stack::Stack::start()?;
    stack.print_settings();
    let status = Command::new("cargo")
        .current_dir(paths::root())
        .arg("test")
        .args(args)
        .env(STACK_ENV, &stack.file)
        .status()?;
    drop(stack);
    if !status.success() {
        anyhow::bail!("tests failed ({status})");
    }
    Ok(())
}

fn bench() -> anyhow::Result<()> {
    frontend::build()?;
    let root = paths::root();
    sh::run_visible(Command::new("cargo").current_dir(&root).args([
        "build",
        "--release",
        "--package",
        "opsportal-server",
        "--package",
        "opsportal-agent",
    ]))?;
    let stack = stack::Stack::start()?;
    let benches = [
        ("opsportal-tests", "foundation"),
        ("opsportal-tests", "certificates"),
        ("opsportal-tests", "ingest"),
        ("opsportal-tests", "host_health"),
        ("opsportal-agent", "collect"),
    ];
    for (package, bench) in benches {
        let report = paths::target().join(format!("bench/{bench}.md"));
        let status = Command::new("cargo")
            .current_dir(&root)
            .args(["bench", "--package", package, "--bench", bench])
            .env(STACK_ENV, &stack.file)
            .env("OPSPORTAL_BIN", paths::target().join("release/opsportal"))
            .env("OPSPORTAL_BENCH_REPORT", &report)
            .status()?;
        if !status.success() {
            anyhow::bail!("the {bench} benchmark failed ({status})");
        }
    }
    Ok(())
}

fn stack_only() -> anyhow::Result<()> {
    let mut stack = stack::Stack::start()?;
    stack.print_settings();
    println!("Press Ctrl-C to stop the stack.");
    let (stop, stopped) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop.send(());
    })?;
    while stopped.recv_timeout(Duration::from_secs(2)).is_err() {
        stack.check()?;
    }
    Ok(())
}
