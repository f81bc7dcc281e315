//! A private OpenSSH server per test: its own port, principals, revocation list and log, so
//! tests that log in, revoke or read sshd's log never see each other's lines.
//!
//! It trusts the stack's CAs (Vault's and the embedded one), logs at VERBOSE so that each
//! certificate login names its Key ID and serial, and reads `RevokedKeys` afresh on each login.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::clock::ClockShift;
use super::stack;

pub struct Sshd {
    pub port: u16,
    pub dir: PathBuf,
    pub log_file: PathBuf,
    revoked_keys: PathBuf,
    child: Child,
}

/// How a test's sshd is set up beyond its principals.
#[derive(Debug, Default, Clone)]
pub struct SshdSetup {
    /// Log through syslog to this Unix socket (as `/dev/log` in a private mount namespace)
    /// instead of to a file.
    pub syslog_socket: Option<PathBuf>,
    /// A plain public key `root` also accepts from its authorized_keys.
    pub authorized_key: Option<String>,
    /// A wall clock shifted from the real one, as on a host whose NTP broke.
    pub clock: Option<ClockShift>,
}

impl Sshd {
    /// Starts sshd where the shared `root` account accepts `principals`.
    pub fn start(principals: &[&str]) -> Self {
        Self::start_with(principals, SshdSetup::default())
    }

    /// Starts sshd with `principals` for `root`, as `setup` says.
    pub fn start_with(principals: &[&str], setup: SshdSetup) -> Self {
        let stack_dir = std::env::var_os(xtask::stack_info::STACK_ENV)
            .map(PathBuf::from)
            .and_then(|file| file.parent().map(Path::to_path_buf))
            .expect("the stack folder");
        let dir = stack_dir
            .join("sshd-tests")
            .join(uuid::Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(dir.join("principals")).unwrap();
        let host_key = dir.join("host_key");
        keygen(&host_key);
        std::fs::write(dir.join("principals/root"), principals.join("\n") + "\n").unwrap();
        let revoked_keys = dir.join("revoked_keys");
        std::fs::write(&revoked_keys, "").unwrap();
        let authorized_keys = match &setup.authorized_key {
            Some(key) => {
                std::fs::write(dir.join("authorized_keys"), format!("{key}\n")).unwrap();
                format!("{}/authorized_keys", dir.display())
            }
            None => "none".to_owned(),
        };

        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let log_file = dir.join("sshd.log");
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {pid}\n\
                 TrustedUserCAKeys {trusted}\nAuthorizedPrincipalsFile {dir}/principals/%u\n\
                 AuthorizedKeysFile {authorized_keys}\nRevokedKeys {revoked}\nPubkeyAuthentication yes\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\nUsePAM yes\nLogLevel VERBOSE\n\
                 # The test folders may sit below a world-writable one such as /tmp.\n\
                 StrictModes no\n",
                host_key = host_key.display(),
                pid = dir.join("sshd.pid").display(),
                trusted = stack().sshd.trusted_ca_file.display(),
                dir = dir.display(),
                revoked = revoked_keys.display(),
            ),
        )
        .unwrap();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let mut command = match &setup.syslog_socket {
            None => {
                let mut sshd = Command::new("/usr/sbin/sshd");
                sshd.args(["-D", "-f"])
                    .arg(&config)
                    .arg("-E")
                    .arg(&log_file);
                if let Some(clock) = setup.clock {
                    clock.apply(&mut sshd);
                }
                sshd
            }
            Some(socket) => logging_to_syslog(&dir, &config, socket, setup.clock),
        };
        let child = command
            .stdin(Stdio::null())
            .spawn()
            .expect("sshd (Debian package openssh-server) starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            port,
            dir,
            log_file,
            revoked_keys,
            child,
        }
    }

    /// Replaces the revocation list the way a host's timer would: whole, by rename.
    pub fn install_krl(&self, krl: &[u8]) {
        let partial = self.revoked_keys.with_extension("partial");
        std::fs::write(&partial, krl).unwrap();
        std::fs::rename(&partial, &self.revoked_keys).unwrap();
    }

    /// `ssh` to this server with `key` alone, without prompts, known hosts or config files.
    fn ssh(&self, key: &Path) -> Command {
        let mut command = Command::new("ssh");
        command
            .args(["-F", "/dev/null", "-p", &self.port.to_string()])
            .arg("-i")
            .arg(key)
            .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])
            .args(["-o", "StrictHostKeyChecking=no"])
            .args(["-o", "UserKnownHostsFile=/dev/null"])
            .args(["-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR"]);
        command
    }

    /// Runs `ssh root@127.0.0.1 true` with `key` and the certificate `cert`.
    pub fn login(&self, key: &Path, cert: &Path) -> Output {
        self.ssh(key)
            .arg("-o")
            .arg(format!("CertificateFile={}", cert.display()))
            .args(["root@127.0.0.1", "true"])
            .stdin(Stdio::null())
            .output()
            .expect("ssh runs")
    }

    /// Tries `ssh <user>@127.0.0.1 true` with the plain key `key` and nothing else.
    pub fn attempt(&self, user: &str, key: &Path) -> Output {
        self.ssh(key)
            .args(["-l", user, "127.0.0.1", "true"])
            .stdin(Stdio::null())
            .output()
            .expect("ssh runs")
    }

    /// What sshd has logged so far; waits briefly for a line containing `expect`.
    pub fn log_containing(&self, expect: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = std::fs::read_to_string(&self.log_file).unwrap_or_default();
            if log.contains(expect) || Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        super::process::end(Some(&mut self.child), &self.dir);
    }
}

/// sshd in a mount namespace of its own whose `/dev/log` is `socket`, so that its syslog
/// lines reach a test's rsyslog and no one else's. The namespace's `/dev` is a fresh tmpfs
/// with the few devices sshd opens bound in from the real one, and `/dev/shm` (where
/// libfaketime keeps its state when the clock is shifted).
fn logging_to_syslog(
    dir: &Path,
    config: &Path,
    socket: &Path,
    clock: Option<ClockShift>,
) -> Command {
    // Only sshd runs on the shifted clock: the commands that build the namespace must not
    // look for libfaketime's state in a `/dev` they are replacing.
    let shifted: String = clock
        .iter()
        .flat_map(|clock| clock.environment())
        .map(|(name, value)| format!("{name}={value} "))
        .collect();
    let script = format!(
        "set -e; mkdir -p {dir}/hostdev; mount --bind /dev {dir}/hostdev; \
         mount -t tmpfs -o mode=755 tmpfs /dev; \
         for f in null zero random urandom tty full; do touch /dev/$f; \
           mount --bind {dir}/hostdev/$f /dev/$f; done; \
         mkdir /dev/shm; mount --bind {dir}/hostdev/shm /dev/shm; \
         ln -s {socket} /dev/log; exec env {shifted}/usr/sbin/sshd -D -f {config}",
        dir = dir.display(),
        socket = socket.display(),
        config = config.display(),
    );
    let mut command = Command::new("unshare");
    command.args(["--mount", "--propagation", "private", "sh", "-c", &script]);
    command
}

/// A new Ed25519 key pair at `path` and `path.pub`, without a passphrase.
pub fn keygen(path: &Path) {
    keygen_with(path, &["-t", "ed25519"]);
}

/// A new key pair of the kind `args` name (e.g. `["-t", "rsa", "-b", "2048"]`).
pub fn keygen_with(path: &Path, args: &[&str]) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-C", "test-key"])
        .args(args)
        .arg("-f")
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success(), "ssh-keygen {args:?}");
}
