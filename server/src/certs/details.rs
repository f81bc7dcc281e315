//! A certificate's details in the words of `ssh-keygen -L`, which is what people who know SSH
//! certificates expect to read. Times are UTC (ssh-keygen prints the local time zone).

use chrono::DateTime;
use ssh_key::{Algorithm, Certificate, HashAlg};

/// Extensions that ssh-keygen prints by name alone.
const FLAG_EXTENSIONS: [&str; 6] = [
    "no-touch-required",
    "permit-X11-forwarding",
    "permit-agent-forwarding",
    "permit-port-forwarding",
    "permit-pty",
    "permit-user-rc",
];

/// The text `TZ=UTC ssh-keygen -L -f FILE` prints for `cert` saved as `file_name`.
pub fn render(file_name: &str, cert: &Certificate) -> String {
    let mut out = format!("{file_name}:\n");
    let kind = key_type(&cert.public_key().algorithm());
    out.push_str(&format!(
        "        Type: {} {} certificate\n",
        cert.algorithm().to_certificate_type(),
        if cert.cert_type().is_user() {
            "user"
        } else {
            "host"
        }
    ));
    out.push_str(&format!(
        "        Public key: {kind}-CERT {}\n",
        cert.public_key().fingerprint(HashAlg::Sha256)
    ));
    out.push_str(&format!(
        "        Signing CA: {} {} (using {})\n",
        key_type(&cert.signature_key().algorithm()),
        cert.signature_key().fingerprint(HashAlg::Sha256),
        cert.signature().algorithm().as_str()
    ));
    out.push_str(&format!("        Key ID: \"{}\"\n", cert.key_id()));
    out.push_str(&format!("        Serial: {}\n", cert.serial()));
    out.push_str(&format!(
        "        Valid: from {} to {}\n",
        timestamp(cert.valid_after()),
        timestamp(cert.valid_before())
    ));

    out.push_str("        Principals: ");
    list(&mut out, cert.valid_principals().iter().map(String::as_str));
    out.push_str("        Critical Options: ");
    let critical = cert.critical_options().iter().map(|(name, value)| {
        if value.is_empty() {
            name.clone()
        } else {
            format!("{name} {value}")
        }
    });
    list(
        &mut out,
        critical.collect::<Vec<_>>().iter().map(String::as_str),
    );
    out.push_str("        Extensions: ");
    let extensions = cert.extensions().keys().map(|name| {
        if FLAG_EXTENSIONS.contains(&name.as_str()) {
            name.clone()
        } else {
            format!("{name} UNKNOWN OPTION")
        }
    });
    list(
        &mut out,
        extensions.collect::<Vec<_>>().iter().map(String::as_str),
    );
    out
}

fn list<'a>(out: &mut String, items: impl Iterator<Item = &'a str>) {
    let mut any = false;
    for item in items {
        out.push_str("\n                ");
        out.push_str(item);
        any = true;
    }
    out.push_str(if any { "\n" } else { "(none)\n" });
}

/// OpenSSH's short name of a key type, as in `ED25519 SHA256:...`.
pub fn key_type(algorithm: &Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Ed25519 => "ED25519",
        Algorithm::Ecdsa { .. } => "ECDSA",
        Algorithm::Rsa { .. } => "RSA",
        Algorithm::Dsa => "DSA",
        Algorithm::SkEd25519 => "ED25519-SK",
        Algorithm::SkEcdsaSha2NistP256 => "ECDSA-SK",
        _ => "UNKNOWN",
    }
}

fn timestamp(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_else(|| "forever".into())
}
