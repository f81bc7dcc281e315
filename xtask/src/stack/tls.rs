//! A throwaway CA and server certificates for the stack's TLS services. The certificates name
//! 127.0.0.1, ::1 and localhost in subjectAltName, which TLS clients verify (Samba's own
//! self-made certificate has no subjectAltName and is refused by rustls).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::sh;

pub struct Ca {
    pub cert: PathBuf,
    key: PathBuf,
}

/// Makes a CA in `dir`.
pub fn make_ca(dir: &Path) -> anyhow::Result<Ca> {
    std::fs::create_dir_all(dir)?;
    let ca = Ca {
        cert: dir.join("ca.pem"),
        key: dir.join("ca.key"),
    };
    sh::run(
        Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "30", "-subj", "/CN=opsportal stack CA"])
            .arg("-keyout")
            .arg(&ca.key)
            .arg("-out")
            .arg(&ca.cert),
    )?;
    Ok(ca)
}

impl Ca {
    /// Issues a server certificate for loopback; returns (certificate, key) paths. The key is
    /// readable by its owner only, as Samba insists.
    pub fn issue(&self, dir: &Path, name: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}.key"));
        let csr = dir.join(format!("{name}.csr"));
        let ext = dir.join(format!("{name}.ext"));
        std::fs::write(
            &ext,
            "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n\
             basicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\n",
        )?;
        sh::run(
            Command::new("openssl")
                .args(["req", "-newkey", "rsa:2048", "-nodes"])
                .args(["-subj", &format!("/CN={name}")])
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&csr),
        )?;
        sh::run(
            Command::new("openssl")
                .args(["x509", "-req", "-days", "30", "-CAcreateserial"])
                .arg("-in")
                .arg(&csr)
                .arg("-CA")
                .arg(&self.cert)
                .arg("-CAkey")
                .arg(&self.key)
                .arg("-extfile")
                .arg(&ext)
                .arg("-out")
                .arg(&cert),
        )?;
        set_mode(&key, 0o600)?;
        Ok((cert, key))
    }
}

pub fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}
