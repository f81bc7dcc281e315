//! Short-lived SSH certificates: check the request, sign, verify, record, hand out; list and
//! revoke; the revocation list hosts read.
//!
//! The order of [`issue`] is what makes a certificate traceable: an intent row is written
//! before the signer is called (no record, no signature), the certificate is verified against
//! the request, and it is handed out only after its record is complete. A crash in between
//! leaves the intent row, which admins see as an unfinished certificate. The intent's commit
//! does not wait for the database to flush it; the record's commit does, and flushes the
//! intent with it, so a database crash can lose only the intent of a certificate that was
//! never handed out. Records that are ready at the same moment share one statement and commit
//! (see [`Recorder`]); each is handed out only after that commit.

pub mod details;
mod error;
pub mod key;
pub mod krl;
pub mod policy;
mod recorder;
pub mod signer;
pub mod store;
pub mod verify;
mod view;

use std::time::Duration;

use chrono::DateTime;
use opsportal_shared::certs::{IssueRequest, IssuedCertificate};
use serde_json::json;
use ssh_key::HashAlg;
use tracing::{error, info, warn};

pub use error::CertError;
pub use recorder::Recorder;
pub use signer::Signer;
pub use view::{issued, summary};

use crate::app::AppState;
use crate::audit::{self, AuditEvent, Outcome};
use crate::client::ClientInfo;
use crate::session::SessionUser;

/// Slack allowed for the signer's clock when checking validity, in seconds.
const CLOCK_SLACK_SECS: u64 = 120;

/// Certifies the key in `request` for `user`, or says why not; every outcome is audited.
pub async fn issue(
    state: &AppState,
    user: &SessionUser,
    request: &IssueRequest,
    client: &ClientInfo,
) -> Result<IssuedCertificate, CertError> {
    let result = issue_and_record(state, user, request, client).await;
    // A success is audited in the transaction that records it; a refusal here.
    if let Err(failure) = &result {
        let mut audit = audit_event(user, client, Outcome::Failure);
        audit.reason = Some(failure.audit_reason());
        audit::record(&state.db, &audit).await?;
    }
    result
}

fn audit_event<'a>(
    user: &'a SessionUser,
    client: &'a ClientInfo,
    outcome: Outcome,
) -> AuditEvent<'a> {
    let mut audit = AuditEvent::new("certificate_issue", outcome);
    audit.actor = Some(&user.username);
    audit.subject = Some(&user.username);
    audit.source_addr = client.addr;
    audit.user_agent = client.user_agent.as_deref();
    audit
}

async fn issue_and_record(
    state: &AppState,
    user: &SessionUser,
    request: &IssueRequest,
    client: &ClientInfo,
) -> Result<IssuedCertificate, CertError> {
    let config = &state.config.certificates;
    user.require(opsportal_shared::auth::Role::User)
        .map_err(|_| CertError::NotAUser)?;
    let key = key::parse(&request.public_key, config.min_rsa_bits)?;
    let decision = policy::decide(
        config,
        &user.principals,
        &user.principal_max_ttl,
        request.principals.as_deref(),
        request.ttl_secs,
    )?;

    let signer = &state.signer;
    let intent = store::Intent {
        username: &user.username,
        object_guid: &user.object_guid,
        principals: &decision.principals,
        requested_ttl_secs: i32::try_from(decision.ttl.as_secs()).unwrap_or(i32::MAX),
        key_fingerprint: &key.fingerprint,
        public_key: &key.openssh,
        backend: signer.backend(),
        client_addr: client.addr,
        user_agent: client.user_agent.as_deref(),
        request_id: crate::http::request_id::current()
            .and_then(|id| uuid::Uuid::parse_str(&id).ok()),
    };
    let id = match store::begin(&state.intents, &intent, config.max_per_minute).await? {
        store::Begun::Started(id) => id,
        store::Begun::KeyRevoked => {
            warn!(fingerprint = %key.fingerprint, "a revoked key was submitted");
            return Err(CertError::KeyRevoked);
        }
        store::Begun::KeyOfAnother(_) => {
            warn!(fingerprint = %key.fingerprint, "a key registered to another person was submitted");
            return Err(CertError::KeyOfAnotherPerson);
        }
        store::Begun::TooMany => return Err(CertError::TooMany),
    };

    let backdate = Duration::from_secs(config.backdate_secs);
    let sign_request = signer::SignRequest {
        username: &user.username,
        groups: &user.groups,
        key: &key,
        principals: &decision.principals,
        ttl: decision.ttl,
        backdate,
        extensions: &config.extensions,
        vault_token: user.vault_token.as_ref().map(|t| t.expose()),
    };
    let signed = match signer.sign(&sign_request).await {
        Ok(signed) => signed,
        Err(failure) => {
            warn!(certificate_id = id, %failure, "nothing was signed");
            mark(state, id, "failed", &failure.to_string()).await;
            return Err(failure.into());
        }
    };

    let (cert, ca) = match verify_signed(signer, user, &key, &decision, config, &signed).await {
        Ok(checked) => checked,
        Err(problem) => {
            error!(certificate_id = id, %problem, "the signer returned a certificate that breaks the policy");
            mark(state, id, "rejected", &problem).await;
            return Err(CertError::PolicyViolation);
        }
    };

    let ca_public_key = ca
        .to_openssh()
        .map_err(|e| CertError::Internal(e.to_string()))?;
    let timestamp = |secs: u64| {
        i64::try_from(secs)
            .ok()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .ok_or_else(|| CertError::Internal(format!("timestamp {secs} out of range")))
    };
    // Recorded and audited in one statement; only then is the certificate handed out.
    let mut audit = audit_event(user, client, Outcome::Success);
    audit.detail = json!({
        "certificate_id": id,
        "serial": cert.serial().to_string(),
        "key_id": cert.key_id(),
        "principals": decision.principals,
        "key_fingerprint": key.fingerprint,
    });
    let completion = store::Completion {
        id,
        serial: cert.serial(),
        key_id: cert.key_id().to_owned(),
        ca_fingerprint: ca.fingerprint(HashAlg::Sha256).to_string(),
        ca_public_key: ca_public_key.trim().to_owned(),
        valid_after: timestamp(cert.valid_after())?,
        valid_before: timestamp(cert.valid_before())?,
        certificate: signed,
        audit: audit::OwnedEvent::of(&audit),
    };
    let recorded = state.recorder.record(completion).await;
    let row = match recorded {
        Ok(row) => row,
        Err(failure) => {
            // Signed but not recorded: withheld. The intent row stays as the trace.
            error!(certificate_id = id, serial = cert.serial(), %failure, "cannot record the certificate; not handing it out");
            return Err(failure.into());
        }
    };
    audit::log(&audit);
    info!(
        certificate_id = id,
        serial = cert.serial(),
        key_id = cert.key_id(),
        principals = ?decision.principals,
        "certificate issued"
    );
    view::issued(&row).map_err(CertError::Internal)
}

/// Checks what the signer returned against the request; returns the certificate and its CA.
async fn verify_signed(
    signer: &Signer,
    user: &SessionUser,
    key: &key::SubmittedKey,
    decision: &policy::Decision,
    config: &crate::config::CertificatesConfig,
    signed: &str,
) -> Result<(ssh_key::Certificate, ssh_key::PublicKey), String> {
    let ca = signer.ca_public_key().await.map_err(|e| e.to_string())?;
    let key_id = signer
        .expected_key_id(&user.username, &key.key)
        .map_err(|e| e.to_string())?;
    let expected = verify::Expected {
        key: &key.key,
        ca: &ca,
        key_id: &key_id,
        principals: &decision.principals,
        extensions: &config.extensions,
        max_validity_secs: decision.ttl.as_secs() + config.accepted_backdate_secs(),
        now: signer.now_secs(),
        clock_slack_secs: CLOCK_SLACK_SECS,
    };
    verify::check(signed, &expected).map(|cert| (cert, ca))
}

/// Best effort: the row stays `signing` (a visible trace) when even this write fails.
async fn mark(state: &AppState, id: i64, verdict: &str, problem: &str) {
    if let Err(error) = store::fail(&state.db, id, verdict, problem).await {
        error!(certificate_id = id, %error, "cannot mark the certificate row");
    }
}
