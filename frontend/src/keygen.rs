//! Ed25519 key pairs made in the browser, for people who have no SSH key yet.
//!
//! The private key comes from the browser's CSPRNG and never leaves the page: it is never sent
//! to the portal, only held in a Blob that the person can download once it has a certificate.

use rand_core::OsRng;
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey};

use crate::browser::ObjectUrl;

/// The comment in the public key line, so the key can be recognised later in `~/.ssh`.
const COMMENT: &str = "made-in-opsportal";

/// A key pair made here. The private half is only in [`GeneratedKey::private_key`].
#[derive(Debug)]
pub struct GeneratedKey {
    /// The OpenSSH public key line that is sent to be certified.
    pub public_line: String,
    /// `SHA256:...`, as the portal reports certified keys, to match certificates to this key.
    pub fingerprint: String,
    /// The private key in OpenSSH format, as a download.
    pub private_key: ObjectUrl,
    /// Whether a certificate was issued for it, after which discarding it loses something.
    pub certified: bool,
}

impl GeneratedKey {
    pub fn generate() -> Result<Self, String> {
        let mut key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519)
            .map_err(|e| format!("The browser could not make a key pair ({e})."))?;
        key.set_comment(COMMENT);
        let public_line = key
            .public_key()
            .to_openssh()
            .map_err(|e| format!("The new public key could not be written ({e})."))?;
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        // `pem` and `key` wipe their memory when dropped at the end of this function, leaving
        // the Blob as the only copy.
        let pem = key
            .to_openssh(LineEnding::LF)
            .map_err(|e| format!("The new private key could not be written ({e})."))?;
        let private_key = ObjectUrl::for_text(&pem)
            .ok_or("The browser could not hold the private key for download.")?;
        Ok(Self {
            public_line,
            fingerprint,
            private_key,
            certified: false,
        })
    }
}
