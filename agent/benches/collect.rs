//! The agent's cost per collection on a busy host: 1 000 listeners, 10 000 TCP sockets in all
//! and 2 000 extra processes, made for the run. Measures the CPU time and wall time of one
//! collection (the calling thread's scheduler time, in nanoseconds), and the resident memory
//! of the real `opsportal-agent --once` on the same host.
//!
//! `cargo bench -p opsportal-agent --bench collect`; writes `target/bench/collect.md` (or the
//! file named by `OPSPORTAL_BENCH_REPORT`) and prints it.

use std::fmt::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use opsportal_agent::collect::{self, Sources, SshdSources};

const LISTENERS: usize = 1_000;
const CONNECTIONS: usize = 4_500;
const PROCESSES: usize = 2_000;
const RUNS: usize = 20;
/// The agent's default collection interval.
const INTERVAL_SECS: f64 = 10.0;

fn main() -> anyhow::Result<()> {
    // 10 000 sockets need a descriptor limit above that (ulimit -n).
    let listeners: Vec<TcpListener> = (0..LISTENERS)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{e}: the descriptor limit (ulimit -n) must exceed 11 000"))?;
    let mut sockets = Vec::with_capacity(2 * CONNECTIONS);
    for n in 0..CONNECTIONS {
        let listener = &listeners[n % LISTENERS];
        sockets.push(TcpStream::connect(listener.local_addr()?)?);
        sockets.push(listener.accept()?.0);
    }
    let mut children: Vec<Child> = (0..PROCESSES)
        .map(|_| {
            Command::new("sleep")
                .arg("600")
                .stdin(Stdio::null())
                .spawn()
        })
        .collect::<Result<_, _>>()?;

    let sources = Sources {
        top_fds: 10,
        proc_net: PathBuf::from("/proc/net"),
        file_nr: PathBuf::from("/proc/sys/fs/file-nr"),
        sshd: SshdSources {
            sshd_config: PathBuf::from("/etc/ssh/sshd_config"),
            passwd: PathBuf::from("/etc/passwd"),
            principals: vec!["root".into(), "zone-webservers".into()],
        },
    };
    // As the running agent does: the first collection finds the listeners' holders, the
    // later ones check them.
    let mut owners = collect::OwnerCache::default();
    let first_cpu = thread_cpu_ns()?;
    let warm = collect::collect_with(&sources, &mut owners);
    let first_ms = (thread_cpu_ns()? - first_cpu) as f64 / 1e6;
    anyhow::ensure!(
        warm.listeners.len() >= LISTENERS,
        "only {} listeners seen",
        warm.listeners.len()
    );
    let mut cpu_ms = Vec::new();
    let mut wall_ms = Vec::new();
    for _ in 0..RUNS {
        let (cpu, wall) = (thread_cpu_ns()?, Instant::now());
        let snapshot = collect::collect_with(&sources, &mut owners);
        wall_ms.push(wall.elapsed().as_secs_f64() * 1000.0);
        cpu_ms.push((thread_cpu_ns()? - cpu) as f64 / 1e6);
        std::hint::black_box(snapshot);
    }
    let (once_rss_mb, once_cpu_ms) = agent_once()?;

    for child in &mut children {
        let _ = child.kill();
        let _ = child.wait();
    }
    drop(sockets);

    let cpu = median(&mut cpu_ms);
    let wall = median(&mut wall_ms);
    let mut report = String::from("# opsportal-agent collection benchmark\n\n");
    writeln!(
        report,
        "Release build on {} cores. The host held {LISTENERS} listeners, {} TCP sockets in all \
         and {PROCESSES} extra processes while the agent collected {RUNS} times.\n",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        LISTENERS + 2 * CONNECTIONS
    )?;
    writeln!(
        report,
        "| measure | value | target |\n|---|---|---|\n\
         | CPU of the first collection, finding every listener's holder | {first_ms:.1} ms | |\n\
         | CPU per collection after it (median) | {cpu:.1} ms | |\n\
         | wall time per collection (median) | {wall:.1} ms | |\n\
         | share of one core at a {INTERVAL_SECS:.0} s interval | {:.2}% | under 1% |\n\
         | resident memory of `opsportal-agent --once` (max RSS) | {once_rss_mb:.1} MB | under 20 MB |\n\
         | CPU of that whole `--once` run, start-up included | {once_cpu_ms:.0} ms | |\n",
        100.0 * cpu / (INTERVAL_SECS * 1000.0)
    )?;
    let report_path = std::env::var_os("OPSPORTAL_BENCH_REPORT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench/collect.md")
        });
    std::fs::create_dir_all(report_path.parent().expect("report folder"))?;
    std::fs::write(&report_path, &report)?;
    println!("{report}");
    Ok(())
}

/// The calling thread's time on a CPU so far, in nanoseconds.
fn thread_cpu_ns() -> anyhow::Result<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    text.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("unreadable schedstat"))
}

/// Runs the release agent's `--once` under GNU time: its peak RSS in MB and CPU in ms.
fn agent_once() -> anyhow::Result<(f64, f64)> {
    let agent = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/opsportal-agent");
    anyhow::ensure!(
        agent.exists(),
        "build it first: cargo build --release -p opsportal-agent"
    );
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%M %U %S"])
        .arg(&agent)
        .arg("--once")
        .stdout(Stdio::null())
        .output()?;
    anyhow::ensure!(output.status.success(), "agent --once failed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    let fields: Vec<f64> = last
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    anyhow::ensure!(fields.len() == 3, "unexpected time output: {last}");
    Ok((fields[0] / 1024.0, (fields[1] + fields[2]) * 1000.0))
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
