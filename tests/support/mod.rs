//! Test helpers: a portal started in-process on a fresh database against the real stack, HTTP
//! clients that behave like the portal's own pages, and direct access to the directory.

pub mod agent;
pub mod browser;
mod client;
pub mod clock;
mod config;
pub mod directory;
pub mod ingest;
pub mod keys;
pub mod openbao;
pub mod postgres;
pub mod process;
pub mod rsyslog;
pub mod sshd;
pub mod tls;

pub use client::{Answer, Client};
pub use config::{Listeners, config_toml};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use opsportal::Portal;
use opsportal::config::Config;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use xtask::stack_info::StackInfo;

/// The running stack, read once.
pub fn stack() -> &'static StackInfo {
    static STACK: OnceLock<StackInfo> = OnceLock::new();
    STACK.get_or_init(|| StackInfo::from_env().expect("the test stack"))
}

/// Settings a test may change before the portal starts.
pub struct AppOptions {
    pub directory_urls: Vec<String>,
    pub connect_timeout_secs: u64,
    pub operation_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    pub absolute_timeout_secs: u64,
    pub dev_insecure_http: bool,
    pub max_failures_per_user: u32,
    pub max_failures_per_address: u32,
    /// The file holding the service account's password.
    pub bind_password_file: PathBuf,
    pub signer: SignerChoice,
    pub max_ttl_secs: u64,
    /// `certificates.backdate_secs`.
    pub backdate_secs: u64,
    pub max_certificates_per_minute: u32,
    pub db_max_connections: u32,
    /// Receive syslog over TCP on a loopback port of its own.
    pub syslog_tcp: bool,
    /// Receive syslog over UDP on a loopback port of its own.
    pub syslog_udp: bool,
    /// Receive syslog over TLS on a loopback port of its own, with these files.
    pub syslog_tls: Option<SyslogTls>,
    /// `ingest.max_line_bytes`.
    pub max_line_bytes: usize,
    /// `ingest.max_batch_bytes`.
    pub max_batch_bytes: usize,
    /// `ingest.queue_lines`.
    pub queue_lines: usize,
    /// `ingest.store_timeout_secs`.
    pub store_timeout_secs: u64,
    /// A PostgreSQL server of the test's own (its `postgres` database URL) instead of the
    /// stack's, for tests that stop or restart it.
    pub database_server: Option<String>,
}

/// The TLS listener's certificate and key, and the CA of hosts' client certificates.
#[derive(Debug, Clone)]
pub struct SyslogTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub client_ca_file: Option<PathBuf>,
}

/// Who signs the test portal's certificates.
#[derive(Debug, Clone)]
pub enum SignerChoice {
    /// The portal's own CA, with the stack's key.
    Embedded,
    /// The stack's OpenBao through the JWT login, or another Vault-like server.
    Vault(VaultOptions),
}

#[derive(Debug, Clone)]
pub struct VaultOptions {
    pub addr: String,
    /// The CA of Vault's TLS certificate.
    pub ca_file: PathBuf,
    pub role: String,
    pub timeout_secs: u64,
    /// `None` for the JWT login; the LDAP login's check-token file otherwise.
    pub ldap_check_token_file: Option<PathBuf>,
}

impl SignerChoice {
    /// The stack's OpenBao, its hardened role, the JWT login.
    pub fn vault_jwt() -> Self {
        Self::Vault(VaultOptions {
            addr: stack().vault.addr.clone(),
            ca_file: stack().vault.ca_file.clone(),
            role: stack().vault.ssh_role.clone(),
            timeout_secs: 3,
            ldap_check_token_file: None,
        })
    }

    /// What the certificate records name as the backend.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::Vault(VaultOptions {
                ldap_check_token_file: None,
                ..
            }) => "vault-jwt",
            Self::Vault(_) => "vault-ldap",
        }
    }

    /// The CA every certificate of this signer is signed with.
    pub fn ca_public_key(&self) -> &'static str {
        match self {
            Self::Embedded => &stack().embedded_ca.public_key,
            Self::Vault(_) => &stack().vault.ca_public_key,
        }
    }
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            directory_urls: vec![stack().directory.ldaps_url.clone()],
            connect_timeout_secs: 2,
            operation_timeout_secs: 3,
            idle_timeout_secs: 1800,
            absolute_timeout_secs: 28800,
            dev_insecure_http: true,
            max_failures_per_user: 3,
            max_failures_per_address: 20,
            bind_password_file: stack().directory.bind_password_file.clone(),
            signer: SignerChoice::Embedded,
            max_ttl_secs: 3600,
            backdate_secs: 30,
            max_certificates_per_minute: 20,
            db_max_connections: 5,
            syslog_tcp: false,
            syslog_udp: false,
            syslog_tls: None,
            max_line_bytes: 8192,
            max_batch_bytes: 1024 * 1024,
            queue_lines: 10_000,
            store_timeout_secs: 10,
            database_server: None,
        }
    }
}

/// A portal serving on an ephemeral loopback port, with its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub origin: String,
    pub db: PgPool,
    /// Where the portal receives syslog over TCP, when asked to.
    pub syslog_addr: Option<SocketAddr>,
    /// Where the portal receives syslog over UDP, when asked to.
    pub syslog_udp_addr: Option<SocketAddr>,
    /// Where the portal receives syslog over TLS, when asked to.
    pub syslog_tls_addr: Option<SocketAddr>,
    database: String,
    database_server: String,
    config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    pub async fn start() -> Self {
        Self::with(AppOptions::default()).await
    }

    pub async fn with(options: AppOptions) -> Self {
        Self::try_with(options).await.expect("portal builds")
    }

    /// Like [`TestApp::with`], but returns the error when the portal refuses to start.
    pub async fn try_with(options: AppOptions) -> anyhow::Result<Self> {
        let database = format!("opsportal_test_{}", uuid::Uuid::new_v4().simple());
        let server = options
            .database_server
            .clone()
            .unwrap_or_else(|| stack().database_url.clone());
        psql_on(&server, &format!("create database {database}"));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let scheme = if options.dev_insecure_http {
            "http"
        } else {
            "https"
        };
        let origin = format!("{scheme}://{addr}");
        let listeners = Listeners::for_options(&options);
        let config =
            Config::from_toml(&config_toml(&options, &database, addr, &origin, &listeners))
                .expect("test configuration is valid");

        let db = opsportal::db::pool(&config.database).expect("pool");
        opsportal::db::MIGRATOR.run(&db).await.expect("migrations");
        let mut app = Self {
            addr,
            origin,
            db,
            syslog_addr: listeners.tcp,
            syslog_udp_addr: listeners.udp,
            syslog_tls_addr: listeners.tls,
            database,
            database_server: server,
            config,
            shutdown: None,
            server: None,
        };
        app.serve(listener).await?;
        Ok(app)
    }

    async fn serve(&mut self, listener: TcpListener) -> anyhow::Result<()> {
        let portal = Portal::build(self.config.clone()).await?;
        let (tx, rx) = oneshot::channel();
        self.shutdown = Some(tx);
        self.server = Some(tokio::spawn(portal.serve(listener, async {
            let _ = rx.await;
        })));
        Ok(())
    }

    /// The name of the portal's database.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Runs a `select count(*) ...` in the portal's database.
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.db)
            .await
            .expect("count query")
    }

    /// The revocation list the portal serves.
    pub async fn krl(&self) -> Vec<u8> {
        let response = self
            .raw_client()
            .get(self.url("/krl"))
            .send()
            .await
            .expect("GET /krl");
        assert_eq!(response.status(), StatusCode::OK);
        response.bytes().await.expect("KRL body").to_vec()
    }

    /// Stops the portal and starts a new one on the same port and database, as a restart or a
    /// second instance behind a load balancer would.
    pub async fn restart(&mut self) {
        self.restart_after(std::time::Duration::ZERO).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A client that behaves like the portal's own pages: keeps cookies, sends the
    /// anti-forgery header and the portal's origin.
    pub fn client(&self) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            opsportal_shared::CSRF_HEADER,
            opsportal_shared::CSRF_HEADER_VALUE.parse().unwrap(),
        );
        headers.insert(reqwest::header::ORIGIN, self.origin.parse().unwrap());
        headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .default_headers(headers)
                .user_agent("opsportal-tests")
                .build()
                .unwrap(),
            base: self.url(""),
        }
    }

    /// A plain client without cookies or any of the portal's headers.
    pub fn raw_client(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    /// Audit rows for `event`, oldest first.
    pub async fn audit(&self, event: &str) -> Vec<AuditRow> {
        sqlx::query_as(
            "select outcome, actor, subject, reason, throttled, detail, request_id::text
             from audit_event where event = $1 order by audit_event_id",
        )
        .bind(event)
        .fetch_all(&self.db)
        .await
        .expect("audit query")
    }

    /// The reason of each audit row for `event`, oldest first (`None` for a success).
    pub async fn audit_reasons(&self, event: &str) -> Vec<Option<String>> {
        self.audit(event)
            .await
            .into_iter()
            .map(|r| r.reason)
            .collect()
    }

    /// The reason of each audit row for `event`, oldest first; every row must be a failure.
    pub async fn failure_reasons(&self, event: &str) -> Vec<String> {
        let rows = self.audit(event).await;
        rows.into_iter()
            .map(|r| {
                r.reason
                    .unwrap_or_else(|| panic!("a {event} row without a reason"))
            })
            .collect()
    }

    pub async fn session_rows(&self) -> i64 {
        sqlx::query_scalar("select count(*) from web_session where expires_at > now()")
            .fetch_one(&self.db)
            .await
            .expect("session count")
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct AuditRow {
    pub outcome: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub reason: Option<String>,
    /// Whether the failure counts towards sign-in throttling.
    pub throttled: bool,
    pub detail: Value,
    pub request_id: Option<String>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
        psql_on(
            &self.database_server,
            &format!("drop database if exists {} with (force)", self.database),
        );
    }
}

/// Runs one SQL statement as the stack's admin role.
pub fn psql(statement: &str) {
    psql_on(&stack().database_url, statement);
}

/// Runs one SQL statement on the server of `url`.
pub fn psql_on(url: &str, statement: &str) {
    let output = Command::new("psql")
        .args([url, "-Atqc", statement])
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "psql {statement}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
