//! rsyslog's own PostgreSQL output on the same stream as the portal: a child rsyslogd
//! receiving the benchmark's lines with `imtcp` and writing each with `ompgsql` into a table
//! of its own, timed the same way.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sqlx::PgPool;

use super::{LINES, Portal, common, frame, join_all, payloads, postgres_ticks, send_all};

/// rsyslog's action queue for `ompgsql`, set as for a busy collector: lines per dequeued
/// batch (one transaction each), worker threads (one database connection each, one per core
/// here), and the queue's bound in lines.
pub const RSYSLOG_BATCH: usize = 1000;
pub const RSYSLOG_WORKERS: usize = 2;
pub const RSYSLOG_QUEUE: usize = 100_000;
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

/// What rsyslog-pgsql did with the same stream.
pub struct RsyslogIngest {
    pub version: String,
    pub lines_per_sec: f64,
    pub rsyslog_us_per_line: f64,
    pub postgres_us_per_line: f64,
}

/// The table rsyslog writes to, in the benchmark's database: what syslog gives without parsing.
const RSYSLOG_TABLE: &str = "create table rsyslog_event (
    id bigint generated always as identity primary key,
    received_at timestamptz not null,
    reported_at timestamptz not null,
    hostname text not null,
    program text not null,
    procid text not null,
    message text not null
)";

/// The same lines over the same connections to a child rsyslogd writing them with `ompgsql`,
/// timed from the first byte sent until `count(*)` reaches [`LINES`].
pub async fn rate(portal: &Portal, db: &PgPool) -> anyhow::Result<RsyslogIngest> {
    sqlx::query(RSYSLOG_TABLE).execute(db).await?;
    let mut rsyslogd = Rsyslogd::start(&portal.database_url())?;
    warm_up(&mut rsyslogd, db).await?;
    let payloads = payloads();
    let pid = rsyslogd.pid();
    let (rsyslog_before, postgres_before) = (common::cpu_ticks(pid), postgres_ticks());
    let started = Instant::now();
    let senders = send_all(rsyslogd.addr, payloads);
    wait_for_rows(&mut rsyslogd, db, LINES, started + Duration::from_secs(600)).await?;
    let elapsed = started.elapsed();
    let rsyslog_cpu = (common::cpu_ticks(pid) - rsyslog_before) as f64 / 100.0;
    let postgres_cpu = postgres_ticks().saturating_sub(postgres_before) as f64 / 100.0;
    join_all(senders)?;
    check_rsyslog_rows(db).await?;
    let version = rsyslog_version()?;
    drop(rsyslogd);
    sqlx::query("drop table rsyslog_event").execute(db).await?;
    Ok(RsyslogIngest {
        version,
        lines_per_sec: LINES as f64 / elapsed.as_secs_f64(),
        rsyslog_us_per_line: rsyslog_cpu * 1e6 / LINES as f64,
        postgres_us_per_line: postgres_cpu * 1e6 / LINES as f64,
    })
}

/// One line through rsyslogd into the table, then an empty table again: the whole path
/// (configuration, module, database login) works before the clock starts, and a broken one
/// fails here in seconds rather than at the deadline.
async fn warm_up(rsyslogd: &mut Rsyslogd, db: &PgPool) -> anyhow::Result<()> {
    join_all(send_all(rsyslogd.addr, vec![frame(0).into_bytes()]))?;
    wait_for_rows(rsyslogd, db, 1, Instant::now() + Duration::from_secs(15)).await?;
    sqlx::query("truncate rsyslog_event restart identity")
        .execute(db)
        .await?;
    Ok(())
}

/// Waits until `rsyslog_event` holds `want` rows. The highest id, read from the primary key's
/// index, costs next to nothing; `count(*)` over the growing table every few milliseconds
/// would load the database being measured, so it only confirms once the highest id says all
/// rows are there (the workers commit out of order, so it may say so early).
async fn wait_for_rows(
    rsyslogd: &mut Rsyslogd,
    db: &PgPool,
    want: usize,
    deadline: Instant,
) -> anyhow::Result<()> {
    let want = want as i64;
    loop {
        let highest: Option<i64> = sqlx::query_scalar("select max(id) from rsyslog_event")
            .fetch_one(db)
            .await?;
        if highest.unwrap_or(0) >= want {
            let stored = stored_rows(db).await?;
            anyhow::ensure!(
                stored <= want,
                "rsyslog stored {stored} rows for {want} lines"
            );
            if stored == want {
                return Ok(());
            }
        }
        rsyslogd.check_running()?;
        if Instant::now() > deadline {
            let stored = stored_rows(db).await?;
            anyhow::bail!(
                "rsyslog stored only {stored} of {want} lines; rsyslogd's own log:\n{}",
                rsyslogd.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn stored_rows(db: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("select count(*) from rsyslog_event")
        .fetch_one(db)
        .await?)
}

/// Fails unless every row holds the fields of the line it came from, so that the rate counts
/// lines stored as sent and not rows rsyslog could not make sense of.
async fn check_rsyslog_rows(db: &PgPool) -> anyhow::Result<()> {
    let complete: i64 = sqlx::query_scalar(
        "select count(*) from rsyslog_event
         where hostname = 'web01' and program = 'sshd' and procid ~ '^[0-9]+$'
           and reported_at = '2026-12-04T10:00:00Z' and message <> ''",
    )
    .fetch_one(db)
    .await?;
    anyhow::ensure!(
        complete == LINES as i64,
        "only {complete} of the {LINES} rows rsyslog stored hold the lines' fields"
    );
    Ok(())
}

/// rsyslogd's version, from the first line of `rsyslogd -v`.
fn rsyslog_version() -> anyhow::Result<String> {
    let output = Command::new(RSYSLOGD).arg("-v").output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .nth(1)
        .map(str::to_owned)
        .with_context(|| format!("no version in `{RSYSLOGD} -v`: {text}"))
}

/// rsyslogd as a child of this benchmark, with its configuration, work folder, pid file and
/// own log in a temporary folder; killed, and the folder removed, on drop.
struct Rsyslogd {
    child: Option<Child>,
    dir: PathBuf,
    addr: SocketAddr,
}

impl Rsyslogd {
    /// Starts rsyslogd writing what it receives on a free loopback port into `rsyslog_event`
    /// of the database at `database_url`, and waits until it listens.
    fn start(database_url: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(
            Path::new(RSYSLOGD).is_file(),
            "{RSYSLOGD} is missing (Debian package rsyslog): run `cargo xtask setup`"
        );
        let module = ompgsql_module()?;
        let target = PgTarget::from_url(database_url)?;
        let dir = std::env::temp_dir().join(format!(
            "opsportal-bench-rsyslog-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(dir.join("work"))
            .with_context(|| format!("creating {}", dir.display()))?;
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let mut rsyslogd = Self {
            child: None,
            dir,
            addr,
        };
        let config = rsyslogd.dir.join("rsyslog.conf");
        std::fs::write(
            &config,
            rsyslog_config(&rsyslogd.dir, addr, &module, &target),
        )?;
        validate_config(&config)?;
        let output = std::fs::File::create(rsyslogd.dir.join("rsyslogd.out"))?;
        let child = Command::new(RSYSLOGD)
            // Plain TCP to PostgreSQL, as the portal's own connections are: libpq would
            // otherwise prefer TLS, which on loopback only adds CPU on both sides.
            .env("PGSSLMODE", "disable")
            .arg("-n")
            .arg("-f")
            .arg(&config)
            .arg("-i")
            .arg(rsyslogd.dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .spawn()
            .with_context(|| format!("starting {RSYSLOGD}"))?;
        rsyslogd.child = Some(child);
        rsyslogd.wait_listening()?;
        Ok(rsyslogd)
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("rsyslogd started").id()
    }

    fn wait_listening(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(self.addr).is_err() {
            self.check_running()?;
            anyhow::ensure!(
                Instant::now() < deadline,
                "rsyslogd does not listen on {} after 10 s; its own log:\n{}",
                self.addr,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Fails when rsyslogd has exited.
    fn check_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().transpose()) {
            anyhow::bail!("rsyslogd exited ({}):\n{}", status?, self.log_tail());
        }
        Ok(())
    }

    /// The last lines of rsyslogd's output and of its own messages.
    fn log_tail(&self) -> String {
        ["rsyslogd.out", "internal.log"]
            .iter()
            .map(|name| {
                let text = std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                lines[lines.len().saturating_sub(20)..].join("\n")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Rsyslogd {
    fn drop(&mut self) {
        super::support::process::end(self.child.as_mut(), &self.dir);
    }
}

/// `ompgsql.so` in rsyslog's module folder, `/usr/lib/<multiarch triplet>/rsyslog` on Debian.
fn ompgsql_module() -> anyhow::Result<PathBuf> {
    let mut libs = vec![PathBuf::from("/usr/lib"), PathBuf::from("/usr/lib64")];
    if let Ok(entries) = std::fs::read_dir("/usr/lib") {
        libs.extend(entries.filter_map(|e| Some(e.ok()?.path())));
    }
    libs.into_iter()
        .map(|lib| lib.join("rsyslog/ompgsql.so"))
        .find(|module| module.is_file())
        .context(
            "rsyslog's PostgreSQL output ompgsql.so is missing (Debian package rsyslog-pgsql): \
             run `cargo xtask setup`",
        )
}

/// Where `ompgsql` connects: the benchmark's database server, database and account.
struct PgTarget {
    host: String,
    port: u16,
    database: String,
    user: String,
    password: String,
}

impl PgTarget {
    fn from_url(url: &str) -> anyhow::Result<Self> {
        let parsed = reqwest::Url::parse(url).with_context(|| format!("database URL {url}"))?;
        let user = match parsed.username() {
            "" => "postgres",
            user => user,
        };
        Ok(Self {
            host: parsed
                .host_str()
                .with_context(|| format!("no host in {url}"))?
                .to_owned(),
            port: parsed.port().unwrap_or(5432),
            database: parsed.path().trim_start_matches('/').to_owned(),
            user: user.to_owned(),
            password: parsed.password().unwrap_or("").to_owned(),
        })
    }
}

/// rsyslogd's whole configuration: no system inputs (no imuxsock, imjournal or imklog), one
/// `imtcp` listener whose ruleset writes every message with `ompgsql`, and rsyslogd's own
/// messages to a file in `dir` instead of the system log. The template is the SQL statement
/// itself, so `ompgsql` requires it to escape values, here as standard SQL strings.
fn rsyslog_config(dir: &Path, addr: SocketAddr, module: &Path, target: &PgTarget) -> String {
    let PgTarget {
        host,
        port,
        database,
        user,
        password,
    } = target;
    format!(
        r#"global(workDirectory="{work}")
module(load="imtcp")
module(load="{module}")
template(name="rsyslog_event" type="list" option.stdsql="on") {{
  constant(value="insert into rsyslog_event ")
  constant(value="(received_at, reported_at, hostname, program, procid, message) values ('")
  property(name="timegenerated" dateFormat="rfc3339")
  constant(value="', '")
  property(name="timereported" dateFormat="rfc3339")
  constant(value="', '")
  property(name="hostname")
  constant(value="', '")
  property(name="app-name")
  constant(value="', '")
  property(name="procid")
  constant(value="', '")
  property(name="msg")
  constant(value="')")
}}
ruleset(name="bench") {{
  action(type="ompgsql" server="{host}" serverport="{port}" db="{database}" user="{user}"
         pass="{password}" template="rsyslog_event"
         queue.type="LinkedList" queue.size="{RSYSLOG_QUEUE}"
         queue.dequeueBatchSize="{RSYSLOG_BATCH}" queue.workerThreads="{RSYSLOG_WORKERS}"
         queue.workerThreadMinimumMessages="{RSYSLOG_BATCH}")
}}
input(type="imtcp" address="{ip}" port="{listen}" ruleset="bench")
action(type="omfile" file="{internal}")
"#,
        work = dir.join("work").display(),
        module = module.display(),
        ip = addr.ip(),
        listen = addr.port(),
        internal = dir.join("internal.log").display(),
    )
}

/// `rsyslogd -N1`: rsyslogd carries on without an action it cannot set up, so a configuration
/// error would otherwise show only as rows that never arrive.
fn validate_config(config: &Path) -> anyhow::Result<()> {
    let output = Command::new(RSYSLOGD)
        .arg("-N1")
        .arg("-f")
        .arg(config)
        .output()
        .with_context(|| format!("starting {RSYSLOGD}"))?;
    anyhow::ensure!(
        output.status.success(),
        "rsyslogd refuses {}: {}{}",
        config.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}
