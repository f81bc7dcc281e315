//! Vault's LDAP login, which the local OpenBao build lacks, against a recorded exchange: a
//! small server on loopback answers `auth/ldap/login` with Vault's recorded answers, and
//! signs as Vault would (with the stack's embedded CA key and Vault's Key ID format), so the
//! whole path runs: the password goes to Vault once at sign-in, the token stays in the
//! server-side session, and the sign request carries it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::{get, post};
use axum::{Json, Router};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::keys::KeyPair;
use crate::support::{AppOptions, SignerChoice, TestApp, VaultOptions, stack};

const TOKEN: &str = "hvs.CAESIRecordedLdapLoginTokenForAlice0000000000";
const CHECK_TOKEN: &str = "hvs.CAESIRecordedRoleReaderToken000000000000000";

/// One request the recorded Vault received.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    token: Option<String>,
    body: Value,
}

#[derive(Clone, Default)]
struct Recorded {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Recorded {
    fn note(&self, path: String, headers: &HeaderMap, body: Value) {
        let token = headers
            .get("x-vault-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self.seen.lock().unwrap().push(Seen { path, token, body });
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn login(
    State(r): State<Recorded>,
    Path(user): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (AxumStatus, Json<Value>) {
    r.note(format!("auth/ldap/login/{user}"), &headers, body.clone());
    if user == "alice" && body["password"] == stack().person("alice").password.as_str() {
        // Vault 1.x's answer to a successful LDAP login, as recorded.
        (
            AxumStatus::OK,
            Json(json!({
                "request_id": "7c1f2b7e-0d4a-4f0b-9d0e-3a1c2b4d5e6f",
                "lease_id": "", "renewable": false, "lease_duration": 0, "data": {},
                "wrap_info": null, "warnings": null,
                "auth": {
                    "client_token": TOKEN,
                    "accessor": "hmac-accessor-recorded",
                    "policies": ["default", "ssh-sign"],
                    "token_policies": ["default", "ssh-sign"],
                    "metadata": { "username": "alice" },
                    "lease_duration": 120, "renewable": true,
                    "entity_id": "0f0e0d0c-0b0a-0908-0706-050403020100",
                    "token_type": "service", "orphan": true
                }
            })),
        )
    } else {
        (
            AxumStatus::BAD_REQUEST,
            Json(json!({ "errors": ["ldap operation failed: failed to bind as user"] })),
        )
    }
}

async fn role(State(r): State<Recorded>, headers: HeaderMap) -> (AxumStatus, Json<Value>) {
    r.note(
        "ssh-client-signer/roles/portal".into(),
        &headers,
        Value::Null,
    );
    if headers
        .get("x-vault-token")
        .is_none_or(|t| t != CHECK_TOKEN)
    {
        return (
            AxumStatus::FORBIDDEN,
            Json(json!({ "errors": ["permission denied"] })),
        );
    }
    (
        AxumStatus::OK,
        Json(json!({ "data": {
            "key_type": "ca", "allow_user_certificates": true, "allow_host_certificates": false,
            "allow_user_key_ids": false, "allow_empty_principals": false,
            "allowed_users": "root,zone-webservers,zone-databases,root-everywhere",
            "allowed_users_template": false, "allowed_critical_options": "none@opsportal",
            "allowed_extensions": "permit-pty", "default_extensions": { "permit-pty": "" },
            "allowed_user_key_lengths": { "ed25519": [0] }, "ttl": 3600, "max_ttl": 3600,
            "algorithm_signer": "default"
        }})),
    )
}

async fn ca(State(r): State<Recorded>, headers: HeaderMap) -> Json<Value> {
    r.note("ssh-client-signer/config/ca".into(), &headers, Value::Null);
    Json(json!({ "data": { "public_key": stack().embedded_ca.public_key } }))
}

/// Signs as Vault's SSH engine does for a token whose display name is `ldap-alice`.
async fn sign(
    State(r): State<Recorded>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (AxumStatus, Json<Value>) {
    r.note(
        "ssh-client-signer/sign/portal".into(),
        &headers,
        body.clone(),
    );
    if headers.get("x-vault-token").is_none_or(|t| t != TOKEN) {
        return (
            AxumStatus::FORBIDDEN,
            Json(json!({ "errors": ["permission denied"] })),
        );
    }
    let public = body["public_key"].as_str().unwrap_or_default().to_owned();
    let blob = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(public.split_whitespace().nth(1).unwrap_or_default())
            .unwrap_or_default()
    };
    let key_id = format!("vault-ldap-alice-{}", hex::encode(Sha256::digest(blob)));
    let ttl = body["ttl"]
        .as_str()
        .unwrap_or("60s")
        .trim_end_matches('s')
        .to_owned();
    let dir = std::env::temp_dir().join(format!("recorded-vault-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("key.pub");
    std::fs::write(&key_file, &public).unwrap();
    let serial: u64 = rand_serial();
    let output = std::process::Command::new("ssh-keygen")
        .arg("-q")
        .arg("-s")
        .arg(&stack().embedded_ca.key_file)
        .args([
            "-I",
            &key_id,
            "-n",
            body["valid_principals"].as_str().unwrap_or_default(),
        ])
        .args([
            "-V",
            &format!("-30s:+{ttl}s"),
            "-z",
            &serial.to_string(),
            "-O",
            "clear",
            "-O",
            "permit-pty",
        ])
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let signed = std::fs::read_to_string(dir.join("key-cert.pub")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        AxumStatus::OK,
        Json(json!({ "data": { "serial_number": format!("{serial:x}"), "signed_key": signed } })),
    )
}

fn rand_serial() -> u64 {
    let bytes = *uuid::Uuid::new_v4().as_bytes();
    u64::from_be_bytes(bytes[..8].try_into().unwrap()) | 1
}

async fn recorded_vault() -> (SocketAddr, Recorded) {
    let recorded = Recorded::default();
    let app = Router::new()
        .route("/v1/auth/ldap/login/{user}", post(login))
        .route("/v1/ssh-client-signer/roles/portal", get(role))
        .route("/v1/ssh-client-signer/config/ca", get(ca))
        .route("/v1/ssh-client-signer/sign/portal", post(sign))
        .with_state(recorded.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, recorded)
}

#[tokio::test]
async fn the_ldap_login_sends_the_password_once_and_keeps_the_token_on_the_server() {
    let (addr, recorded) = recorded_vault().await;
    let check_token = std::env::temp_dir().join(format!("check-token-{}", uuid::Uuid::new_v4()));
    std::fs::write(&check_token, format!("{CHECK_TOKEN}\n")).unwrap();
    let app = TestApp::with(AppOptions {
        signer: SignerChoice::Vault(VaultOptions {
            addr: format!("http://{addr}"),
            ca_file: stack().vault.ca_file.clone(),
            role: "portal".into(),
            timeout_secs: 3,
            ldap_check_token_file: Some(check_token.clone()),
        }),
        ..AppOptions::default()
    })
    .await;

    let alice = app.client();
    let signed_in = alice.sign_in_as("alice").await;
    let logins: Vec<Seen> = recorded
        .seen()
        .into_iter()
        .filter(|s| s.path.starts_with("auth/"))
        .collect();
    assert_eq!(
        logins.len(),
        1,
        "the password goes to Vault once: {logins:?}"
    );
    assert_eq!(
        logins[0].path, "auth/ldap/login/alice",
        "the canonical account name"
    );
    assert_eq!(
        logins[0].body,
        json!({ "password": stack().person("alice").password })
    );
    assert_eq!(logins[0].token, None);

    // The token is in the server-side session, never in what the browser gets.
    assert!(
        !signed_in.body.to_string().contains("hvs."),
        "{}",
        signed_in.body
    );
    assert!(!alice.get("/api/me").await.body.to_string().contains("hvs."));
    let in_store = app
        .count(&format!(
            "select count(*) from web_session where data::text like '%{TOKEN}%'"
        ))
        .await;
    assert_eq!(in_store, 1);

    let key = KeyPair::ed25519();
    let answer = alice.issue(&key.public, Some(&["root"]), Some(900)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(answer.body["backend"], "vault-ldap");
    assert!(
        answer.body["key_id"]
            .as_str()
            .unwrap()
            .starts_with("vault-ldap-alice-")
    );
    let signs: Vec<Seen> = recorded
        .seen()
        .into_iter()
        .filter(|s| s.path.ends_with("/sign/portal"))
        .collect();
    assert_eq!(signs.len(), 1);
    assert_eq!(
        signs[0].token.as_deref(),
        Some(TOKEN),
        "signed with the person's own token"
    );
    assert_eq!(signs[0].body["valid_principals"], "root");
    assert_eq!(signs[0].body["ttl"], "900s");
    assert_eq!(signs[0].body["cert_type"], "user");
    assert_eq!(signs[0].body["extensions"], json!({ "permit-pty": "" }));

    // Vault refuses grace's login: she is signed in, but gets a clear answer and nothing else.
    let grace = app.client();
    grace.sign_in_as("grace").await;
    let refused = grace.issue(&KeyPair::ed25519().public, None, None).await;
    let message = refused.expect_error(StatusCode::BAD_GATEWAY, "signing_auth_failed");
    assert!(message.contains("Sign out and in again"), "{message}");
    assert_eq!(
        app.count("select count(*) from certificate where state = 'issued'")
            .await,
        1
    );
    assert_eq!(
        app.count("select count(*) from certificate where state = 'failed'")
            .await,
        1
    );
    std::fs::remove_file(check_token).unwrap();
}
