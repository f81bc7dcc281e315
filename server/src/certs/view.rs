//! Certificate rows as the API shows them.

use chrono::{DateTime, Utc};
use opsportal_shared::certs::{CertificateState, CertificateSummary, IssuedCertificate};
use ssh_key::{Algorithm, Certificate};

use super::details;
use super::store::Row;

/// A row's state at this moment.
pub fn state(row: &Row, now: DateTime<Utc>) -> CertificateState {
    match row.state.as_str() {
        "issued" if row.revoked_at.is_some() => CertificateState::Revoked,
        "issued" if row.valid_before.is_some_and(|b| b <= now) => CertificateState::Expired,
        "issued" => CertificateState::Valid,
        "failed" => CertificateState::Failed,
        "rejected" => CertificateState::Rejected,
        _ => CertificateState::Unfinished,
    }
}

pub fn summary(row: &Row) -> CertificateSummary {
    let rfc3339 = |t: DateTime<Utc>| t.to_rfc3339();
    CertificateSummary {
        id: row.certificate_id,
        state: state(row, Utc::now()),
        username: row.username.clone(),
        principals: row.principals.clone(),
        serial: row.serial.clone(),
        serial_hex: row
            .serial
            .as_deref()
            .and_then(|s| s.parse::<u64>().ok())
            .map(|s| format!("{s:016x}")),
        key_id: row.key_id.clone(),
        key_fingerprint: row.key_fingerprint.clone(),
        ca_fingerprint: row.ca_fingerprint.clone(),
        valid_after: row.valid_after.map(rfc3339),
        valid_before: row.valid_before.map(rfc3339),
        created_at: rfc3339(row.created_at),
        backend: row.backend.clone(),
        revoked_at: row.revoked_at.map(rfc3339),
        revoked_by: row.revoked_by.clone(),
    }
}

/// A recorded certificate with its file names and `ssh-keygen -L` details.
pub fn issued(row: &Row) -> Result<IssuedCertificate, String> {
    let text = row
        .certificate
        .as_deref()
        .ok_or("the certificate was never recorded")?;
    let cert = Certificate::from_openssh(text).map_err(|e| e.to_string())?;
    let identity_file = identity_file(&cert.public_key().algorithm()).to_owned();
    let file_name = format!("{identity_file}-cert.pub");
    Ok(IssuedCertificate {
        summary: summary(row),
        details: details::render(&file_name, &cert),
        certificate: text.to_owned(),
        file_name,
        identity_file,
    })
}

/// The private key file ssh-keygen makes for a key type, which OpenSSH pairs with
/// `<name>-cert.pub`.
pub fn identity_file(algorithm: &Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Ed25519 => "id_ed25519",
        Algorithm::Ecdsa { .. } => "id_ecdsa",
        Algorithm::Rsa { .. } => "id_rsa",
        Algorithm::SkEd25519 => "id_ed25519_sk",
        Algorithm::SkEcdsaSha2NistP256 => "id_ecdsa_sk",
        _ => "id_key",
    }
}
