//! OpenSSH key revocation lists (KRL), the binary format sshd reads through `RevokedKeys`.
//!
//! Written by hand from OpenSSH's PROTOCOL.krl because no maintained crate writes them: one
//! certificate section per CA listing revoked serials, and one SHA-256 fingerprint section for
//! revoked public keys (which covers the plain key and every certificate made for it). The
//! list is unsigned; hosts fetch it over HTTPS from the portal. `ssh-keygen -Q -f` reads what
//! this writes, which the tests use as the oracle.

use ssh_key::{HashAlg, PublicKey};

const MAGIC: &[u8; 8] = b"SSHKRL\n\0";
const FORMAT_VERSION: u32 = 1;
const SECTION_CERTIFICATES: u8 = 1;
const SECTION_FINGERPRINT_SHA256: u8 = 5;
const CERT_SECTION_SERIAL_LIST: u8 = 0x20;

/// What a list revokes.
#[derive(Debug, Default)]
pub struct Revocations {
    /// Serials revoked, by the CA that signed them.
    pub serials: Vec<(PublicKey, Vec<u64>)>,
    /// Public keys revoked outright.
    pub keys: Vec<PublicKey>,
}

/// Encodes `revocations` as a KRL. `version` must grow with every change, so hosts can tell
/// a newer list from an older one; `generated_at` is in seconds since the epoch.
pub fn encode(
    revocations: &Revocations,
    version: u64,
    generated_at: u64,
) -> Result<Vec<u8>, ssh_key::Error> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&generated_at.to_be_bytes());
    out.extend_from_slice(&0u64.to_be_bytes()); // flags
    put_string(&mut out, b""); // reserved
    put_string(&mut out, b"opsportal");

    for (ca, serials) in &revocations.serials {
        // Serial 0 means "no serial" to OpenSSH and cannot be revoked by number.
        let serials: Vec<u64> = serials.iter().copied().filter(|s| *s != 0).collect();
        if serials.is_empty() {
            continue;
        }
        let mut section = Vec::new();
        put_string(&mut section, &ca.to_bytes()?);
        put_string(&mut section, b""); // reserved
        let mut list = Vec::with_capacity(serials.len() * 8);
        for serial in serials {
            list.extend_from_slice(&serial.to_be_bytes());
        }
        section.push(CERT_SECTION_SERIAL_LIST);
        put_string(&mut section, &list);
        out.push(SECTION_CERTIFICATES);
        put_string(&mut out, &section);
    }

    if !revocations.keys.is_empty() {
        let mut section = Vec::new();
        for key in &revocations.keys {
            put_string(&mut section, key.fingerprint(HashAlg::Sha256).as_bytes());
        }
        out.push(SECTION_FINGERPRINT_SHA256);
        put_string(&mut out, &section);
    }
    Ok(out)
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).expect("KRL sections stay far below 4 GiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_list_is_the_header_alone() {
        let krl = encode(&Revocations::default(), 7, 1_700_000_000).unwrap();
        assert_eq!(&krl[..8], MAGIC);
        assert_eq!(&krl[8..12], &1u32.to_be_bytes());
        assert_eq!(&krl[12..20], &7u64.to_be_bytes());
        assert_eq!(&krl[20..28], &1_700_000_000u64.to_be_bytes());
        // flags, an empty reserved string, and the comment.
        assert_eq!(krl.len(), 28 + 8 + 4 + 4 + "opsportal".len());
    }
}
