//! Key pairs and certificate files for tests, checked with OpenSSH's own tools.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::sshd::keygen_with;

/// A key pair in a folder of its own, removed on drop.
pub struct KeyPair {
    dir: PathBuf,
    pub private_key: PathBuf,
    /// The `.pub` line.
    pub public: String,
}

impl KeyPair {
    pub fn ed25519() -> Self {
        Self::new(&["-t", "ed25519"])
    }

    /// A key pair of the kind `args` name, e.g. `["-t", "rsa", "-b", "2048"]`.
    pub fn new(args: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(format!("opsportal-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let private_key = dir.join("id_key");
        keygen_with(&private_key, args);
        let public = std::fs::read_to_string(private_key.with_extension("pub")).unwrap();
        Self {
            dir,
            private_key,
            public: public.trim().to_owned(),
        }
    }

    /// A key pair from its OpenSSH texts, e.g. one made in the browser.
    pub fn from_private(private: &str, public: &str) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("opsportal-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let private_key = dir.join("id_key");
        std::fs::write(&private_key, private).unwrap();
        std::fs::set_permissions(&private_key, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(private_key.with_extension("pub"), format!("{public}\n")).unwrap();
        Self {
            dir,
            private_key,
            public: public.trim().to_owned(),
        }
    }

    /// Saves `certificate` beside the private key, as OpenSSH expects it; returns the path.
    pub fn save_certificate(&self, certificate: &str) -> PathBuf {
        let path = self.dir.join("id_key-cert.pub");
        std::fs::write(&path, format!("{}\n", certificate.trim())).unwrap();
        path
    }
}

impl Drop for KeyPair {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What `ssh-keygen -L` prints for `cert`, in UTC.
pub fn keygen_list(cert: &Path) -> String {
    let output = Command::new("ssh-keygen")
        .env("TZ", "UTC")
        .arg("-L")
        .arg("-f")
        .arg(cert)
        .output()
        .expect("ssh-keygen runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Whether `ssh-keygen -Q` finds `cert` revoked in the list `krl`.
pub fn krl_revokes(krl: &[u8], cert: &Path) -> bool {
    let file = cert.with_extension("krl");
    std::fs::write(&file, krl).unwrap();
    let output = Command::new("ssh-keygen")
        .arg("-Q")
        .arg("-f")
        .arg(&file)
        .arg(cert)
        .output()
        .expect("ssh-keygen runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        !text.contains("format error") && !text.contains("invalid"),
        "{text}"
    );
    if text.contains("REVOKED") {
        assert!(!output.status.success());
        true
    } else {
        assert!(output.status.success(), "ssh-keygen -Q: {text}");
        assert!(text.contains(": ok"), "{text}");
        false
    }
}
