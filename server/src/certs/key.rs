//! The public key a person submits: exactly one OpenSSH public key line, of a type and size the
//! policy accepts.
//!
//! Whatever was pasted is never logged or echoed back: a private key pasted by mistake must
//! leave no trace, and even a public key's comment is the person's own text.

use ssh_key::{HashAlg, PublicKey};

/// Largest paste accepted. An RSA 16384-bit key line is under 3 KB.
pub const MAX_KEY_TEXT_BYTES: usize = 8 * 1024;

/// A key that passed every check, with its comment dropped.
#[derive(Debug, Clone)]
pub struct SubmittedKey {
    pub key: PublicKey,
    /// `SHA256:<base64>`, as sshd logs it.
    pub fingerprint: String,
    /// The OpenSSH line without its comment.
    pub openssh: String,
}

/// Why a paste is not a usable public key. Each maps to one answer the person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    Empty,
    TooLong,
    PrivateKey,
    Certificate,
    SeveralKeys,
    Options,
    Malformed,
    Dsa,
    UnsupportedType(String),
    WeakRsa { bits: usize, minimum: usize },
    BadRsaExponent,
}

impl KeyProblem {
    /// The reason recorded in the audit trail; never any key material.
    pub fn audit_reason(&self) -> &'static str {
        match self {
            Self::Empty | Self::Malformed | Self::BadRsaExponent => "invalid_key",
            Self::TooLong => "key_too_long",
            Self::PrivateKey => "private_key_submitted",
            Self::Certificate => "certificate_as_key",
            Self::SeveralKeys => "several_keys",
            Self::Options => "authorized_keys_options",
            Self::Dsa => "key_type_dsa",
            Self::UnsupportedType(_) => "unsupported_key_type",
            Self::WeakRsa { .. } => "weak_key",
        }
    }
}

/// Key types accepted, by their OpenSSH name.
const ACCEPTED: [&str; 7] = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// Checks `text` and returns the key it holds.
pub fn parse(text: &str, min_rsa_bits: usize) -> Result<SubmittedKey, KeyProblem> {
    if text.len() > MAX_KEY_TEXT_BYTES {
        return Err(KeyProblem::TooLong);
    }
    if looks_private(text) {
        return Err(KeyProblem::PrivateKey);
    }
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let line = lines.next().ok_or(KeyProblem::Empty)?;
    if lines.next().is_some() {
        return Err(KeyProblem::SeveralKeys);
    }

    let mut tokens = line.split_ascii_whitespace();
    let kind = tokens.next().ok_or(KeyProblem::Empty)?;
    if kind.contains("-cert-v01@openssh.com") {
        return Err(KeyProblem::Certificate);
    }
    if kind == "ssh-dss" {
        return Err(KeyProblem::Dsa);
    }
    if !ACCEPTED.contains(&kind) {
        // `from="10.0.0.0/8",no-pty ssh-ed25519 AAAA...`: an authorized_keys line.
        return Err(if tokens.any(|t| ACCEPTED.contains(&t) || t == "ssh-dss") {
            KeyProblem::Options
        } else if kind.is_ascii() && kind.len() < 64 && kind.contains('-') {
            KeyProblem::UnsupportedType(kind.to_owned())
        } else {
            KeyProblem::Malformed
        });
    }
    let blob = tokens.next().ok_or(KeyProblem::Malformed)?;

    let mut key =
        PublicKey::from_openssh(&format!("{kind} {blob}")).map_err(|_| KeyProblem::Malformed)?;
    if let Some(rsa) = key.key_data().rsa() {
        check_rsa(rsa, min_rsa_bits)?;
    }
    key.set_comment("");
    let openssh = key.to_openssh().map_err(|_| KeyProblem::Malformed)?;
    Ok(SubmittedKey {
        fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
        openssh: openssh.trim_end().to_owned(),
        key,
    })
}

fn looks_private(text: &str) -> bool {
    text.contains("PRIVATE KEY")
        || text.contains("PuTTY-User-Key-File")
        || text.contains("SSH2 ENCRYPTED PRIVATE KEY")
}

fn check_rsa(rsa: &ssh_key::public::RsaPublicKey, min_bits: usize) -> Result<(), KeyProblem> {
    let modulus = rsa.n.as_positive_bytes().ok_or(KeyProblem::Malformed)?;
    let bits = bit_length(modulus);
    if bits < min_bits {
        return Err(KeyProblem::WeakRsa {
            bits,
            minimum: min_bits,
        });
    }
    // An exponent that is even, 1, or wider than 32 bits is a crafted key, not a real one.
    let exponent = rsa
        .e
        .as_positive_bytes()
        .ok_or(KeyProblem::BadRsaExponent)?;
    let odd = exponent.last().is_some_and(|b| b & 1 == 1);
    let value = (exponent.len() <= 4).then(|| {
        exponent
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
    });
    match value {
        Some(e) if odd && e >= 3 => Ok(()),
        _ => Err(KeyProblem::BadRsaExponent),
    }
}

fn bit_length(big_endian: &[u8]) -> usize {
    let skipped = big_endian.iter().take_while(|b| **b == 0).count();
    let rest = &big_endian[skipped..];
    match rest.first() {
        Some(first) => rest.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop";

    #[test]
    fn an_ed25519_key_is_accepted_and_its_comment_dropped() {
        let key = parse(&format!("  {ED25519}\r\n"), 3072).expect("valid");
        assert_eq!(
            key.openssh,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
        );
        assert!(key.fingerprint.starts_with("SHA256:"));
        assert_eq!(key.key.comment(), "");
    }

    #[test]
    fn each_bad_paste_gets_its_own_reason() {
        let cases = [
            ("", KeyProblem::Empty),
            ("   \n  ", KeyProblem::Empty),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n-----END OPENSSH PRIVATE KEY-----",
                KeyProblem::PrivateKey,
            ),
            ("PuTTY-User-Key-File-3: ssh-ed25519", KeyProblem::PrivateKey),
            (
                "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQ=",
                KeyProblem::Certificate,
            ),
            ("ssh-dss AAAAB3NzaC1kc3M=", KeyProblem::Dsa),
            ("ssh-ed25519 AAAA!!!notbase64", KeyProblem::Malformed),
            (
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6",
                KeyProblem::Malformed,
            ),
            // The text says ed25519; the blob says RSA.
            (
                "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAAAAQC7",
                KeyProblem::Malformed,
            ),
            ("ssh-ed25519", KeyProblem::Malformed),
            ("not a key at all", KeyProblem::Malformed),
            // A Cyrillic "е" in the type name.
            (
                "ssh-\u{435}d25519 AAAAC3NzaC1lZDI1NTE5",
                KeyProblem::Malformed,
            ),
            (
                "x-unknown-type AAAA",
                KeyProblem::UnsupportedType("x-unknown-type".into()),
            ),
        ];
        for (text, problem) in cases {
            assert_eq!(parse(text, 3072).unwrap_err(), problem, "{text:?}");
        }
        let two = format!("{ED25519}\n{ED25519}");
        assert_eq!(parse(&two, 3072).unwrap_err(), KeyProblem::SeveralKeys);
        let options = format!("from=\"10.0.0.0/8\",no-pty {ED25519}");
        assert_eq!(parse(&options, 3072).unwrap_err(), KeyProblem::Options);
        let garbage = format!("{ED25519} trailing words are a comment");
        assert!(parse(&garbage, 3072).is_ok(), "a comment may have spaces");
        let huge = format!("{ED25519} {}", "x".repeat(MAX_KEY_TEXT_BYTES));
        assert_eq!(parse(&huge, 3072).unwrap_err(), KeyProblem::TooLong);
    }

    #[test]
    fn bit_length_counts_from_the_first_set_bit() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(bit_length(&[0x00]), 0);
        assert_eq!(bit_length(&[0x7f; 384]), 384 * 8 - 1);
    }
}
