//! The OpenSSH texts of an Ed25519 key pair: the `ssh-ed25519 AAAA… comment` line, its
//! `SHA256:` fingerprint input, and the unencrypted `openssh-key-v1` private key file, as
//! `ssh-keygen` writes them (PROTOCOL.key in OpenSSH's sources).

const KEY_TYPE: &[u8] = b"ssh-ed25519";
const MAGIC: &[u8] = b"openssh-key-v1\0";
/// Lines of the private key file are this long, as ssh-keygen wraps them.
const PEM_WIDTH: usize = 70;

/// Appends an SSH `string`: a big-endian length, then the bytes.
fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The public key blob: what the public key line holds and the fingerprint hashes.
pub fn public_blob(public: &[u8; 32]) -> Vec<u8> {
    let mut blob = Vec::with_capacity(51);
    put_string(&mut blob, KEY_TYPE);
    put_string(&mut blob, public);
    blob
}

/// `ssh-ed25519 <base64 blob> <comment>`.
pub fn public_line(public: &[u8; 32], comment: &str) -> String {
    format!(
        "ssh-ed25519 {} {comment}",
        base64(&public_blob(public), true)
    )
}

/// `SHA256:<base64 without padding>` of a SHA-256 digest of the public blob.
pub fn fingerprint(digest: &[u8]) -> String {
    format!("SHA256:{}", base64(digest, false))
}

/// The private key file, unencrypted. `check` is the random number written twice, which
/// tells a wrong passphrase from a right one in encrypted files.
pub fn private_pem(public: &[u8; 32], seed: &[u8; 32], comment: &str, check: u32) -> String {
    let blob = public_blob(public);
    let mut secret = Vec::with_capacity(160);
    secret.extend_from_slice(&check.to_be_bytes());
    secret.extend_from_slice(&check.to_be_bytes());
    put_string(&mut secret, KEY_TYPE);
    put_string(&mut secret, public);
    let mut pair = [0u8; 64];
    pair[..32].copy_from_slice(seed);
    pair[32..].copy_from_slice(public);
    put_string(&mut secret, &pair);
    pair.fill(0);
    put_string(&mut secret, comment.as_bytes());
    // Padded with 1, 2, 3, … to the cipher's block size, 8 for "none".
    let mut pad = 1u8;
    while secret.len() % 8 != 0 {
        secret.push(pad);
        pad += 1;
    }

    let mut file = Vec::with_capacity(300);
    file.extend_from_slice(MAGIC);
    put_string(&mut file, b"none");
    put_string(&mut file, b"none");
    put_string(&mut file, b"");
    file.extend_from_slice(&1u32.to_be_bytes());
    put_string(&mut file, &blob);
    put_string(&mut file, &secret);
    secret.fill(0);
    let body = base64(&file, true);
    file.fill(0);

    let mut pem = String::from("-----BEGIN OPENSSH PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(PEM_WIDTH) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END OPENSSH PRIVATE KEY-----\n");
    pem
}

/// Standard base64, with or without `=` padding.
fn base64(bytes: &[u8], padded: bool) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        let digits = chunk.len() + 1;
        for i in 0..4 {
            if i < digits {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else if padded {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssh_key::private::{Ed25519Keypair, KeypairData};
    use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey};

    fn pair(seed: u8) -> ([u8; 32], [u8; 32]) {
        let seed = [seed; 32];
        let keypair = Ed25519Keypair::from_seed(&seed);
        (keypair.public.0, seed)
    }

    #[test]
    fn the_files_read_back_as_the_same_key_in_openssh_s_own_format() {
        for byte in [0u8, 7, 255] {
            let (public, seed) = pair(byte);
            let pem = private_pem(&public, &seed, "made-in-opsportal", 0x0102_0304);
            let parsed = PrivateKey::from_openssh(&pem).expect("an OpenSSH private key");
            assert_eq!(parsed.comment(), "made-in-opsportal");
            let KeypairData::Ed25519(parsed_pair) = parsed.key_data() else {
                panic!("an Ed25519 key")
            };
            assert_eq!(parsed_pair.private.to_bytes(), seed);
            assert_eq!(parsed_pair.public.0, public);

            let expected = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
            let line = public_line(&public, "made-in-opsportal");
            let read = PublicKey::from_openssh(&line).expect("a public key line");
            assert_eq!(read.key_data(), expected.public_key().key_data());

            // ssh-keygen's own file differs only in its random check number.
            let mut theirs = expected.clone();
            theirs.set_comment("made-in-opsportal");
            let theirs = theirs.to_openssh(LineEnding::LF).unwrap();
            assert_eq!(theirs.lines().count(), pem.lines().count());
        }
    }

    #[test]
    fn the_fingerprint_is_openssh_s() {
        use sha2::{Digest, Sha256};
        let (public, _) = pair(9);
        let digest = Sha256::digest(public_blob(&public));
        let line = public_line(&public, "c");
        let expected = PublicKey::from_openssh(&line)
            .unwrap()
            .fingerprint(HashAlg::Sha256)
            .to_string();
        assert_eq!(fingerprint(&digest), expected);
    }

    #[test]
    fn base64_pads_every_remainder() {
        assert_eq!(base64(b"", true), "");
        assert_eq!(base64(b"f", true), "Zg==");
        assert_eq!(base64(b"fo", true), "Zm8=");
        assert_eq!(base64(b"foo", true), "Zm9v");
        assert_eq!(base64(b"fo", false), "Zm8");
    }
}
