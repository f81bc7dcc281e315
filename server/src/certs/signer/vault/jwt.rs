//! The short-lived JWT with which the portal vouches for a signed-in person at Vault's JWT
//! auth method: EdDSA over the claims, signed with the portal's own Ed25519 key.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use serde_json::json;

/// Seconds a token is valid for: long enough for one login call, far under a minute.
pub const LIFETIME_SECS: u64 = 45;

/// Mints JWTs for one issuer and audience.
pub struct JwtMinter {
    key: SigningKey,
    issuer: String,
    audience: String,
}

impl JwtMinter {
    /// Reads the PKCS#8 PEM private key.
    pub fn load(key_file: &Path, issuer: &str, audience: &str) -> Result<Self, String> {
        let pem = std::fs::read_to_string(key_file).map_err(|e| {
            format!(
                "vault.jwt.key_file: cannot read {}: {e}",
                key_file.display()
            )
        })?;
        let key = SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
            format!(
                "vault.jwt.key_file: {} is not an Ed25519 PKCS#8 key: {e}",
                key_file.display()
            )
        })?;
        Ok(Self {
            key,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// A token naming `subject` (the canonical account name) and their `groups`, with a
    /// unique id so that no two tokens are alike, issued at `now` (Unix seconds by the clock
    /// of the Vault that checks it).
    pub fn mint(&self, subject: &str, groups: &[String], now: u64) -> String {
        let header = json!({ "alg": "EdDSA", "typ": "JWT" });
        let claims = json!({
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "groups": groups,
            "iat": now,
            "nbf": now,
            "exp": now + LIFETIME_SECS,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.key.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::Verifier;
    use serde_json::Value;

    use super::*;

    fn minter() -> JwtMinter {
        JwtMinter {
            key: SigningKey::from_bytes(&[7; 32]),
            issuer: "opsportal".into(),
            audience: "openbao-ssh".into(),
        }
    }

    fn decode(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn a_token_is_short_lived_signed_and_unique() {
        let minter = minter();
        let token = minter.mint("alice", &["ssh-webservers".into()], 1_796_378_400);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(decode(parts[0])["alg"], "EdDSA");
        let claims = decode(parts[1]);
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["iss"], "opsportal");
        assert_eq!(claims["aud"], "openbao-ssh");
        assert_eq!(claims["groups"][0], "ssh-webservers");
        assert_eq!(claims["iat"], 1_796_378_400, "issued at the time given");
        assert_eq!(claims["nbf"], claims["iat"]);
        let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
        assert!(lifetime < 60, "{lifetime}");

        let signature: [u8; 64] = URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap()
            .try_into()
            .unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        minter
            .key
            .verifying_key()
            .verify(
                signed.as_bytes(),
                &ed25519_dalek::Signature::from_bytes(&signature),
            )
            .expect("the signature verifies");

        let again = decode(
            minter
                .mint("alice", &[], 1_796_378_400)
                .split('.')
                .nth(1)
                .unwrap(),
        );
        assert_ne!(again["jti"], claims["jti"]);
    }
}
