//! Ed25519 key pairs made in the browser, for people who have no SSH key yet.
//!
//! The browser's own WebCrypto makes the pair; the private key never leaves the page: it is
//! never sent to the portal, only held in a Blob that the person can download once it has a
//! certificate. [`openssh`] writes the pair in OpenSSH's formats.

mod openssh;

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

use crate::browser::ObjectUrl;

/// The comment in the public key line, so the key can be recognised later in `~/.ssh`.
const COMMENT: &str = "made-in-opsportal";
/// How WebCrypto writes an Ed25519 private key as PKCS#8: this prefix, then the 32-byte seed.
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

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
    pub async fn generate() -> Result<Self, String> {
        let failed = |what: &str| format!("The browser could not make a key pair ({what}).");
        let crypto = web_sys::window()
            .and_then(|w| w.crypto().ok())
            .ok_or_else(|| failed("no WebCrypto"))?;
        let subtle = crypto.subtle();
        let usages = js_sys::Array::of2(&"sign".into(), &"verify".into());
        let pair = resolve(subtle.generate_key_with_str("Ed25519", true, &usages))
            .await
            .map_err(|_| failed("Ed25519 is not supported here"))?;
        let half = |name: &str| -> Result<CryptoKey, String> {
            js_sys::Reflect::get(&pair, &name.into())
                .ok()
                .and_then(|key| key.dyn_into().ok())
                .ok_or_else(|| failed("no key in the pair"))
        };
        let public: [u8; 32] = export(&subtle, "raw", &half("publicKey")?)
            .await?
            .try_into()
            .map_err(|_| failed("an unexpected public key"))?;
        let mut pkcs8 = export(&subtle, "pkcs8", &half("privateKey")?).await?;
        let seed = match pkcs8.strip_prefix(&PKCS8_PREFIX) {
            Some(seed) if seed.len() == 32 => seed.try_into().ok(),
            _ => None,
        };
        let Some(mut seed) = seed else {
            pkcs8.fill(0);
            return Err(failed("an unexpected private key"));
        };
        pkcs8.fill(0);

        let mut check = [0u8; 4];
        crypto
            .get_random_values_with_u8_array(&mut check)
            .map_err(|_| failed("no random numbers"))?;
        let blob = openssh::public_blob(&public);
        let digest = resolve(subtle.digest_with_str_and_u8_array("SHA-256", &blob))
            .await
            .map(|buffer| Uint8Array::new(&buffer).to_vec())
            .map_err(|_| failed("no SHA-256"))?;
        let pem = openssh::private_pem(&public, &seed, COMMENT, u32::from_be_bytes(check));
        seed.fill(0);
        // The Blob is the one copy of the private key from here on.
        let private_key = ObjectUrl::for_text(&pem)
            .ok_or("The browser could not hold the private key for download.")?;
        Ok(Self {
            public_line: openssh::public_line(&public, COMMENT),
            fingerprint: openssh::fingerprint(&digest),
            private_key,
            certified: false,
        })
    }
}

async fn resolve(promise: Result<js_sys::Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(promise?).await
}

async fn export(subtle: &SubtleCrypto, format: &str, key: &CryptoKey) -> Result<Vec<u8>, String> {
    let buffer = resolve(subtle.export_key(format, key))
        .await
        .map_err(|_| format!("The browser could not write the new key ({format})."))?;
    let buffer: ArrayBuffer = buffer
        .dyn_into()
        .map_err(|_| format!("The browser wrote the new key oddly ({format})."))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
