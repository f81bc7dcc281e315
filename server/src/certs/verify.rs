//! Checks a signed certificate against what was asked, before it is recorded or handed out.
//!
//! The signer is not trusted to follow the policy: a misconfigured Vault role could add
//! principals, drop the Key ID rule, stretch the lifetime or add critical options. A
//! certificate that differs in any way from the request is refused.

use std::collections::BTreeSet;

use ssh_key::certificate::CertType;
use ssh_key::{Certificate, HashAlg, PublicKey};

/// What the certificate must be.
pub struct Expected<'a> {
    pub key: &'a PublicKey,
    pub ca: &'a PublicKey,
    pub key_id: &'a str,
    pub principals: &'a [String],
    pub extensions: &'a [String],
    /// Longest validity window allowed: lifetime plus backdating, in seconds.
    pub max_validity_secs: u64,
    /// Now by the signer's clock, in Unix seconds.
    pub now: u64,
    /// Slack for the signer's clock, in seconds.
    pub clock_slack_secs: u64,
}

/// Parses `text` and checks it; the error says what differs.
pub fn check(text: &str, expected: &Expected<'_>) -> Result<Certificate, String> {
    let cert = Certificate::from_openssh(text.trim())
        .map_err(|e| format!("not an OpenSSH certificate: {e}"))?;

    if cert.public_key() != expected.key.key_data() {
        return Err("certifies another key than the one submitted".into());
    }
    if cert.cert_type() != CertType::User {
        return Err("is not a user certificate".into());
    }
    if cert.signature_key() != expected.ca.key_data() {
        return Err(format!(
            "is signed by CA {}, not {}",
            cert.signature_key().fingerprint(HashAlg::Sha256),
            expected.ca.fingerprint(HashAlg::Sha256)
        ));
    }
    cert.verify_signature()
        .map_err(|e| format!("signature does not verify: {e}"))?;
    if cert.serial() == 0 {
        return Err("has serial 0".into());
    }
    if cert.key_id() != expected.key_id {
        return Err(format!(
            "has Key ID {:?}, expected {:?}",
            cert.key_id(),
            expected.key_id
        ));
    }

    let principals: BTreeSet<&str> = cert.valid_principals().iter().map(String::as_str).collect();
    let wanted: BTreeSet<&str> = expected.principals.iter().map(String::as_str).collect();
    if principals != wanted || cert.valid_principals().len() != expected.principals.len() {
        return Err(format!(
            "has principals {:?}, expected {:?}",
            cert.valid_principals(),
            expected.principals
        ));
    }
    if !cert.critical_options().is_empty() {
        let names: Vec<&String> = cert.critical_options().keys().collect();
        return Err(format!("carries critical options {names:?}"));
    }
    let extensions: BTreeSet<&str> = cert.extensions().keys().map(String::as_str).collect();
    let wanted: BTreeSet<&str> = expected.extensions.iter().map(String::as_str).collect();
    if extensions != wanted || cert.extensions().values().any(|v| !v.is_empty()) {
        return Err(format!(
            "has extensions {extensions:?}, expected {wanted:?}"
        ));
    }

    let now = expected.now;
    let (after, before) = (cert.valid_after(), cert.valid_before());
    if before <= after || before - after > expected.max_validity_secs + expected.clock_slack_secs {
        return Err(format!(
            "is valid for {} s, more than the {} s allowed",
            before.saturating_sub(after),
            expected.max_validity_secs
        ));
    }
    if after > now + expected.clock_slack_secs || before <= now {
        return Err("is not valid now".into());
    }
    Ok(cert)
}
