//! A PostgreSQL server of a test's own, for tests that restart or stop the database without
//! disturbing the others, which share the stack's.

use std::path::PathBuf;
use std::process::Command;

pub struct PrivatePostgres {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
}

/// The folder of Debian's PostgreSQL server programs (`/usr/lib/postgresql/<version>/bin`).
fn server_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server programs (Debian package postgresql)")
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|bin| bin.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop().expect("pg_ctl")
}

/// Runs a server program as the `postgres` account, which the server insists on.
fn as_postgres(bin: &std::path::Path, program: &str, args: &[&str]) {
    let output = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin.join(program))
        .args(args)
        .output()
        .expect("runuser runs");
    assert!(
        output.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl PrivatePostgres {
    pub fn start() -> Self {
        let bin = server_bin();
        let dir = std::env::temp_dir().join(format!("opsportal-pg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success());
        let data = dir.join("data");
        let data = data.to_str().unwrap();
        as_postgres(
            &bin,
            "initdb",
            &["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let server = Self { port, dir, bin };
        server.pg_ctl(&["start"]);
        server
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Kills the server without a clean shutdown and starts it again, as a crash would.
    pub fn restart_immediately(&self) {
        self.pg_ctl(&["restart", "-m", "immediate"]);
    }

    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "immediate"]);
    }

    pub fn start_again(&self) {
        self.pg_ctl(&["start"]);
    }

    fn pg_ctl(&self, action: &[&str]) {
        let data = self.dir.join("data");
        let log = self.dir.join("server.log");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.display()
        );
        let mut args = vec!["-D", data.to_str().unwrap(), "-l", log.to_str().unwrap()];
        args.extend(["-w", "-o", &options]);
        args.extend(action);
        as_postgres(&self.bin, "pg_ctl", &args);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", data.to_str().unwrap(), "stop", "-m", "immediate"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
