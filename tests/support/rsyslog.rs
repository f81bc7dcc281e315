//! A private rsyslogd per test, forwarding with the README's snippet, as a host would.
//!
//! It listens on a Unix socket of its own (which the test's sshd sees as `/dev/log`) and
//! forwards with exactly the configuration the README gives operators, the target filled in.
//! It may also write the same lines to files, as a host's `/var/log/auth.log`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::clock::ClockShift;

pub struct Rsyslog {
    pub socket: PathBuf,
    dir: PathBuf,
    config: PathBuf,
    clock: Option<ClockShift>,
    child: Option<Child>,
}

/// The forwarding snippet from the README, between its markers.
pub fn readme_snippet() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let start = readme
        .find("<!-- rsyslog-snippet -->")
        .expect("the README marks its rsyslog snippet");
    let end = readme
        .find("<!-- /rsyslog-snippet -->")
        .expect("snippet end");
    let block = &readme[start..end];
    let body = block
        .split_once("```\n")
        .and_then(|(_, rest)| rest.rsplit_once("```"))
        .map(|(body, _)| body)
        .expect("the snippet is a code block");
    body.to_owned()
}

impl Rsyslog {
    /// Starts rsyslogd forwarding authentication lines to `portal`.
    pub fn start(portal: SocketAddr) -> Self {
        Self::start_writing(portal, &[])
    }

    /// Starts rsyslogd forwarding to `portal` on a wall clock shifted by `clock`: the time
    /// it stamps on each line is that host's.
    pub fn start_with_clock(portal: SocketAddr, clock: ClockShift) -> Self {
        let mut rsyslog = Self::prepare(portal, &[], Some(clock));
        rsyslog.spawn();
        rsyslog
    }

    /// Starts rsyslogd forwarding authentication lines to `portal` and writing them to each
    /// file of `files` with its template, e.g. `RSYSLOG_TraditionalFileFormat`.
    pub fn start_writing(portal: SocketAddr, files: &[(&Path, &str)]) -> Self {
        let mut rsyslog = Self::prepare(portal, files, None);
        rsyslog.spawn();
        rsyslog
    }

    /// Writes the configuration; starts nothing.
    fn prepare(portal: SocketAddr, files: &[(&Path, &str)], clock: Option<ClockShift>) -> Self {
        let dir = std::env::temp_dir()
            .join("opsportal-rsyslog")
            .join(uuid::Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(dir.join("work")).unwrap();
        let socket = dir.join("log.sock");
        let snippet = readme_snippet()
            .replace("portal.corp.example.com", &portal.ip().to_string())
            .replace("port=\"1514\"", &format!("port=\"{}\"", portal.port()));
        assert!(
            snippet.contains(&portal.port().to_string()),
            "snippet names the port"
        );
        let writes: String = files
            .iter()
            .map(|(file, template)| {
                format!(
                    "if $syslogfacility-text == \"authpriv\" or $syslogfacility-text == \"auth\" \
                     then {{\n  action(type=\"omfile\" file=\"{}\" template=\"{template}\")\n}}\n",
                    file.display()
                )
            })
            .collect();
        let config = dir.join("rsyslog.conf");
        std::fs::write(
            &config,
            format!(
                "global(workDirectory=\"{work}\")\n\
                 module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
                 input(type=\"imuxsock\" Socket=\"{socket}\" RateLimit.Interval=\"0\"{stamp})\n\
                 {snippet}{writes}",
                work = dir.join("work").display(),
                // By default a line is stamped with the kernel's time of arrival, which no
                // shifted clock reaches; a host whose clock is wrong has a wrong kernel too.
                stamp = if clock.is_some() {
                    " UseSysTimeStamp=\"off\""
                } else {
                    ""
                },
                socket = socket.display(),
            ),
        )
        .unwrap();
        Self {
            socket,
            dir,
            config,
            clock,
            child: None,
        }
    }

    fn spawn(&mut self) {
        let mut command = Command::new("/usr/sbin/rsyslogd");
        command
            .args(["-n", "-f"])
            .arg(&self.config)
            .arg("-i")
            .arg(self.dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Some(clock) = self.clock {
            clock.apply(&mut command);
        }
        let child = command
            .spawn()
            .expect("rsyslogd (Debian package rsyslog) starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.socket.exists() {
            assert!(Instant::now() < deadline, "rsyslogd made no socket");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child = Some(child);
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        super::process::end(self.child.as_mut(), &self.dir);
    }
}
