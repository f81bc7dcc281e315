//! A certificate authority inside the portal: an Ed25519 key in a file only the portal can
//! read, certificates built with the ssh-key crate. For small installs and the demo; larger
//! ones keep the CA key in Vault.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use ssh_key::certificate::{Builder, CertType};
use ssh_key::{Algorithm, PrivateKey, PublicKey};

use super::{SignError, SignRequest};

/// The embedded CA.
pub struct EmbeddedCa {
    key: PrivateKey,
}

impl EmbeddedCa {
    /// Reads the CA key. Refuses a file that others may read, an encrypted key, or a key
    /// that is not Ed25519.
    pub fn load(path: &Path) -> Result<Self, String> {
        let mode = std::fs::metadata(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} is readable by others (mode {:o}); chmod 600 it",
                path.display(),
                mode & 0o777
            ));
        }
        let key = PrivateKey::read_openssh_file(path)
            .map_err(|e| format!("{} is not an OpenSSH private key: {e}", path.display()))?;
        if key.is_encrypted() {
            return Err(format!(
                "{} is encrypted; the portal needs it unencrypted",
                path.display()
            ));
        }
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(format!("{} must be an Ed25519 key", path.display()));
        }
        Ok(Self { key })
    }

    pub fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }

    /// The Key ID the embedded CA gives: `portal-<user>-<sha256 of the key blob, hex>`.
    pub fn key_id(username: &str, key: &PublicKey) -> Result<String, SignError> {
        let blob = key
            .to_bytes()
            .map_err(|e| SignError::Internal(e.to_string()))?;
        Ok(format!(
            "portal-{username}-{}",
            hex::encode(Sha256::digest(blob))
        ))
    }

    pub fn sign(&self, request: &SignRequest<'_>) -> Result<String, SignError> {
        let internal = |e: ssh_key::Error| SignError::Internal(e.to_string());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| SignError::Internal(e.to_string()))?
            .as_secs();
        let valid_after = now.saturating_sub(request.backdate.as_secs());
        let valid_before = now + request.ttl.as_secs();

        let subject = request.key.key.key_data().clone();
        let mut builder =
            Builder::new_with_random_nonce(&mut OsRng, subject, valid_after, valid_before)
                .map_err(internal)?;
        builder.serial(random_serial()).map_err(internal)?;
        builder.cert_type(CertType::User).map_err(internal)?;
        builder
            .key_id(Self::key_id(request.username, &request.key.key)?)
            .map_err(internal)?;
        for principal in request.principals {
            builder
                .valid_principal(principal.as_str())
                .map_err(internal)?;
        }
        for extension in request.extensions {
            builder
                .extension(extension.as_str(), "")
                .map_err(internal)?;
        }
        let certificate = builder.sign(&self.key).map_err(internal)?;
        certificate.to_openssh().map_err(internal)
    }
}

/// A random serial; zero means "no serial" to OpenSSH and cannot be revoked by number.
fn random_serial() -> u64 {
    loop {
        let serial = OsRng.next_u64();
        if serial != 0 {
            return serial;
        }
    }
}
