//! Signing through Vault's (or OpenBao's) SSH secrets engine.
//!
//! Vault writes the Key ID itself from the token's display name, so the portal must log in as
//! the person, never as itself, and the role must refuse user-chosen Key IDs. Two logins:
//!
//! - `jwt`: the portal mints a JWT for the signed-in person, valid for under a minute, and logs
//!   in at Vault's JWT auth method; Key ID `vault-<mount>-<user>-<key hash>`. The token is kept
//!   in memory for reuse until shortly before Vault expires it (minutes), because a login costs
//!   Vault more than a signature.
//! - `ldap`: the person's password goes once to Vault's LDAP auth method at sign-in, and the
//!   token lives in the server-side session.
//!
//! Before signing, the role is read and checked (see [`role`]); the verdict is kept briefly.
//! JWTs are minted, and certificates checked, by Vault's clock as its answers show it (see
//! `clock`), so that a portal whose clock drifted keeps working.

mod client;
mod clock;
pub mod jwt;
pub mod role;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use ssh_key::{Algorithm, PublicKey};
use tokio::sync::Mutex;
use tracing::{info, warn};

pub use client::{VaultClient, VaultError};
use jwt::JwtMinter;

use super::{SignError, SignRequest};
use crate::config::{Secret, VaultConfig, VaultLogin};

/// How long a role check is believed before the role is read again.
const RECHECK_AFTER: Duration = Duration::from_secs(30);
/// How long the CA key read from Vault is used before it is read again.
const CA_KEY_FOR: Duration = Duration::from_secs(300);
/// A cached token is dropped this long before Vault would expire it.
const TOKEN_MARGIN: Duration = Duration::from_secs(30);
/// The cache key of the portal's own token (for reading the role); no account name has a NUL.
const PORTAL_SUBJECT: &str = "\0opsportal";

/// A Vault token and when Vault expires it.
#[derive(Clone)]
pub struct VaultToken {
    pub token: String,
    pub expires_at: Instant,
}

pub struct VaultSigner {
    config: VaultConfig,
    client: VaultClient,
    jwt: Option<JwtMinter>,
    check_token: Option<Secret>,
    limits: role::Limits,
    tokens: Mutex<HashMap<String, VaultToken>>,
    role_verdict: Mutex<Option<(Instant, Result<(), String>)>>,
    ca_key: Mutex<Option<(Instant, PublicKey)>>,
}

impl VaultSigner {
    pub fn new(config: VaultConfig, limits: role::Limits) -> Result<Self, String> {
        let client = VaultClient::new(&config)?;
        let jwt = match (config.login, &config.jwt) {
            (VaultLogin::Jwt, Some(jwt)) => {
                Some(JwtMinter::load(&jwt.key_file, &jwt.issuer, &jwt.audience)?)
            }
            (VaultLogin::Jwt, None) => {
                return Err("vault.jwt: needed when vault.login = \"jwt\"".into());
            }
            (VaultLogin::Ldap, _) => None,
        };
        let check_token = config
            .check_token_file
            .as_deref()
            .map(|path| Secret::read("vault.check_token_file", path))
            .transpose()
            .map_err(|e| e.to_string())?;
        if config.login == VaultLogin::Ldap && check_token.is_none() {
            return Err("vault.check_token_file: needed when vault.login = \"ldap\"".into());
        }
        Ok(Self {
            config,
            client,
            jwt,
            check_token,
            limits,
            tokens: Mutex::new(HashMap::new()),
            role_verdict: Mutex::new(None),
            ca_key: Mutex::new(None),
        })
    }

    pub fn backend(&self) -> &'static str {
        match self.config.login {
            VaultLogin::Jwt => "vault-jwt",
            VaultLogin::Ldap => "vault-ldap",
        }
    }

    pub fn uses_ldap_login(&self) -> bool {
        self.config.login == VaultLogin::Ldap
    }

    /// Vault's LDAP login with the person's password, at sign-in.
    pub async fn ldap_login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<VaultToken, SignError> {
        let mount = self
            .config
            .ldap
            .as_ref()
            .map_or("ldap", |l| l.mount.as_str());
        let path = format!("auth/{mount}/login/{username}");
        let answer = self
            .client
            .write(&path, None, &json!({ "password": password }))
            .await
            .map_err(|e| login_error("ldap", e))?;
        token_from_login(&answer)
    }

    pub async fn sign(&self, request: &SignRequest<'_>) -> Result<String, SignError> {
        self.ensure_safe_role().await?;
        let body = sign_body(request);
        let path = format!("{}/sign/{}", self.config.ssh_mount, self.config.ssh_role);

        let token = self.person_token(request).await?;
        let mut answer = self.client.write(&path, Some(&token), &body).await;
        // A cached token Vault no longer knows (revoked, or Vault restarted): log in afresh once.
        if self.jwt.is_some()
            && matches!(&answer, Err(VaultError::Status { status, .. }) if status.as_u16() == 403)
        {
            self.tokens.lock().await.remove(request.username);
            let token = self.person_token(request).await?;
            answer = self.client.write(&path, Some(&token), &body).await;
        }
        let answer = answer.map_err(sign_error)?;
        answer["data"]["signed_key"]
            .as_str()
            .map(|s| s.trim().to_owned())
            .ok_or_else(|| SignError::Refused("Vault returned no signed_key".into()))
    }

    /// The Key ID Vault writes: `vault-<login mount>-<user>-<sha256 of the key blob>`, with
    /// every character outside `[A-Za-z0-9-]` of the display name turned into `-`, as Vault does.
    pub fn expected_key_id(&self, username: &str, key: &PublicKey) -> Result<String, SignError> {
        let blob = key
            .to_bytes()
            .map_err(|e| SignError::Internal(e.to_string()))?;
        let display = sanitize(&format!("{}-{username}", self.config.login_mount()));
        Ok(format!(
            "vault-{display}-{}",
            hex::encode(Sha256::digest(blob))
        ))
    }

    pub async fn ca_public_key(&self) -> Result<PublicKey, SignError> {
        let mut cached = self.ca_key.lock().await;
        if let Some((_, key)) = cached.as_ref().filter(|(at, _)| at.elapsed() < CA_KEY_FOR) {
            return Ok(key.clone());
        }
        let token = self.portal_token().await?;
        let path = format!("{}/config/ca", self.config.ssh_mount);
        let answer = self.client.read(&path, &token).await.map_err(sign_error)?;
        let text = answer["data"]["public_key"]
            .as_str()
            .ok_or_else(|| SignError::Misconfigured(format!("{path} holds no public_key")))?;
        let key = PublicKey::from_openssh(text.trim())
            .map_err(|e| SignError::Misconfigured(format!("{path}: {e}")))?;
        if !matches!(
            key.algorithm(),
            Algorithm::Ed25519 | Algorithm::Ecdsa { .. }
        ) {
            return Err(SignError::Misconfigured(format!(
                "the CA key of {} is {}; the portal verifies Ed25519 and ECDSA CA signatures only",
                self.config.ssh_mount,
                key.algorithm()
            )));
        }
        *cached = Some((Instant::now(), key.clone()));
        Ok(key)
    }

    /// Now by Vault's clock, as far as its answers tell, in Unix seconds.
    pub fn now_secs(&self) -> u64 {
        self.client.clock().now_secs()
    }

    /// Reads the role and the CA key, and checks both.
    pub async fn check(&self) -> Result<(), SignError> {
        *self.role_verdict.lock().await = None;
        self.ensure_safe_role().await?;
        self.ca_public_key().await.map(drop)
    }

    async fn ensure_safe_role(&self) -> Result<(), SignError> {
        let mut verdict = self.role_verdict.lock().await;
        if let Some((_, result)) = verdict
            .as_ref()
            .filter(|(at, _)| at.elapsed() < RECHECK_AFTER)
        {
            return result.clone().map_err(SignError::Misconfigured);
        }
        let token = self.portal_token().await?;
        let path = format!("{}/roles/{}", self.config.ssh_mount, self.config.ssh_role);
        let answer = match self.client.read(&path, &token).await {
            Ok(answer) => answer,
            Err(VaultError::Status { status, message }) if matches!(status.as_u16(), 403 | 404) => {
                let problem = if status.as_u16() == 404 {
                    format!("the SSH role {path} does not exist ({message})")
                } else {
                    format!("the portal's Vault token may not read the SSH role {path} ({message})")
                };
                *verdict = Some((Instant::now(), Err(problem.clone())));
                return Err(SignError::Misconfigured(problem));
            }
            Err(error) => return Err(sign_error(error)),
        };
        let result = role::check(&answer["data"], self.limits)
            .map_err(|problem| format!("ssh role {}: {problem}", self.config.ssh_role));
        if let Err(problem) = &result {
            warn!(role = %self.config.ssh_role, %problem, "the Vault SSH role is unsafe; not signing");
        }
        *verdict = Some((Instant::now(), result.clone()));
        result.map_err(SignError::Misconfigured)
    }

    async fn person_token(&self, request: &SignRequest<'_>) -> Result<String, SignError> {
        match self.config.login {
            VaultLogin::Ldap => request.vault_token.map(str::to_owned).ok_or_else(|| {
                SignError::LoginRefused("this session holds no Vault token; sign in again".into())
            }),
            VaultLogin::Jwt => {
                self.jwt_token(request.username, request.username, request.groups)
                    .await
            }
        }
    }

    /// The token the portal reads the role and CA key with.
    async fn portal_token(&self) -> Result<String, SignError> {
        if let Some(token) = &self.check_token {
            return Ok(token.expose().to_owned());
        }
        self.jwt_token(PORTAL_SUBJECT, "opsportal", &[]).await
    }

    async fn jwt_token(
        &self,
        cache_key: &str,
        subject: &str,
        groups: &[String],
    ) -> Result<String, SignError> {
        let fresh = |t: &&VaultToken| t.expires_at > Instant::now() + TOKEN_MARGIN;
        if let Some(token) = self.tokens.lock().await.get(cache_key).filter(fresh) {
            return Ok(token.token.clone());
        }
        let minter = self
            .jwt
            .as_ref()
            .ok_or_else(|| SignError::Misconfigured("vault.jwt is not configured".into()))?;
        let jwt_config = self
            .config
            .jwt
            .as_ref()
            .ok_or_else(|| SignError::Misconfigured("vault.jwt is not configured".into()))?;
        let path = &format!("auth/{}/login", jwt_config.mount);
        let clock = self.client.clock();
        let login = || {
            let jwt = minter.mint(subject, groups, clock.now_secs());
            let body = json!({ "role": jwt_config.role, "jwt": jwt });
            async move { self.client.write(path, None, &body).await }
        };
        let offset = clock.offset_secs();
        let mut answer = login().await;
        // Refused, and the answer showed Vault's clock elsewhere than the token assumed (the
        // first login, or drift since): once more, in Vault's time.
        if matches!(&answer, Err(VaultError::Status { status, .. }) if status.is_client_error())
            && clock.offset_secs() != offset
        {
            answer = login().await;
        }
        let answer = answer.map_err(|e| login_error("jwt", e))?;
        let token = token_from_login(&answer)?;
        info!(subject, "logged in at Vault's JWT auth method");
        let mut tokens = self.tokens.lock().await;
        tokens.retain(|_, t| t.expires_at > Instant::now());
        tokens.insert(cache_key.to_owned(), token.clone());
        Ok(token.token)
    }
}

/// The sign request: explicit principals always (an empty list would fall back to the role's
/// default user), the lifetime, and exactly the policy's extensions.
fn sign_body(request: &SignRequest<'_>) -> Value {
    let extensions: serde_json::Map<String, Value> = request
        .extensions
        .iter()
        .map(|e| (e.clone(), Value::String(String::new())))
        .collect();
    json!({
        "public_key": request.key.openssh,
        "cert_type": "user",
        "valid_principals": request.principals.join(","),
        "ttl": format!("{}s", request.ttl.as_secs()),
        "extensions": extensions,
    })
}

fn token_from_login(answer: &Value) -> Result<VaultToken, SignError> {
    let auth = &answer["auth"];
    let token = auth["client_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| SignError::LoginRefused("Vault's login answer holds no token".into()))?;
    let lease = auth["lease_duration"].as_u64().unwrap_or(0);
    Ok(VaultToken {
        token: token.to_owned(),
        expires_at: Instant::now() + Duration::from_secs(lease),
    })
}

fn login_error(method: &str, error: VaultError) -> SignError {
    match error {
        VaultError::Status { status, message } if status.is_client_error() => {
            SignError::LoginRefused(format!("{method} login answered {status}: {message}"))
        }
        other => sign_error(other),
    }
}

fn sign_error(error: VaultError) -> SignError {
    match error {
        VaultError::Timeout(_) | VaultError::Unreachable(_) | VaultError::Sealed => {
            SignError::Unavailable(error.to_string())
        }
        VaultError::Status { status, message } if status.is_server_error() => {
            SignError::Unavailable(format!("Vault answered {status}: {message}"))
        }
        VaultError::Status { status, message } if status.as_u16() == 403 => {
            SignError::LoginRefused(format!("Vault answered {status}: {message}"))
        }
        VaultError::Status { status, message } => {
            SignError::Refused(format!("Vault answered {status}: {message}"))
        }
        VaultError::Malformed(detail) => SignError::Unavailable(detail),
    }
}

/// Vault's display-name rule: anything but letters, digits and `-` becomes `-`.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_sanitized_like_vault_does() {
        assert_eq!(sanitize("jwt-alice"), "jwt-alice");
        assert_eq!(sanitize("corp/jwt-john.doe"), "corp-jwt-john-doe");
    }

    #[test]
    fn a_login_answer_without_a_token_is_refused() {
        let answer = json!({ "auth": { "client_token": "", "lease_duration": 120 } });
        assert!(matches!(
            token_from_login(&answer),
            Err(SignError::LoginRefused(_))
        ));
        let answer = json!({ "auth": { "client_token": "s.abc", "lease_duration": 120 } });
        let token = token_from_login(&answer).unwrap();
        assert_eq!(token.token, "s.abc");
        assert!(token.expires_at > Instant::now() + Duration::from_secs(100));
    }
}
