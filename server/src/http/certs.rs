//! Certificates for the signed-in person: what they may request, requesting one, their list,
//! one certificate and its download.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opsportal_shared::auth::Role;
use opsportal_shared::certs::{
    CertificatePolicy, CertificateSummary, IssueRequest, IssuedCertificate, PrincipalLimit,
};

use crate::app::AppState;
use crate::certs::{self, policy, store};
use crate::client::ClientInfo;
use crate::error::ApiError;
use crate::http::json::ApiJson;
use crate::session::{CurrentUser, SessionUser};

/// Most certificates listed for one person.
const LIST_LIMIT: i64 = 200;

/// `GET /api/certificates/policy`: the principals and lifetimes this person may request.
pub async fn policy(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Json<CertificatePolicy> {
    let config = &state.config.certificates;
    let user = &current.user;
    let principals: Vec<PrincipalLimit> = user
        .principals
        .iter()
        .map(|p| PrincipalLimit {
            principal: p.clone(),
            max_ttl_secs: policy::max_ttl_for(config, &user.principal_max_ttl, p),
        })
        .collect();
    let max_ttl_secs = principals
        .iter()
        .map(|p| p.max_ttl_secs)
        .max()
        .unwrap_or(config.max_ttl_secs);
    Json(CertificatePolicy {
        principals,
        default_ttl_secs: config.default_ttl_secs.min(max_ttl_secs),
        max_ttl_secs,
        min_rsa_bits: config.min_rsa_bits,
        extensions: config.extensions.clone(),
    })
}

/// `POST /api/certificates`: certify a public key; 201 with the certificate.
pub async fn issue(
    State(state): State<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    ApiJson(request): ApiJson<IssueRequest>,
) -> Result<(StatusCode, Json<IssuedCertificate>), ApiError> {
    let issued = certs::issue(&state, &current.user, &request, &client).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// `GET /api/certificates`: the person's own certificates, newest first.
pub async fn mine(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<Vec<CertificateSummary>>, ApiError> {
    let rows = store::list_for(&state.db, &current.user.username, LIST_LIMIT).await?;
    Ok(Json(rows.iter().map(certs::summary).collect()))
}

/// `GET /api/certificates/{id}`: one certificate with its details.
pub async fn one(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<IssuedCertificate>, ApiError> {
    let row = visible_row(&state, &current.user, id).await?;
    certs::issued(&row)
        .map(Json)
        .map_err(|_| ApiError::NotFound)
}

/// `GET /api/certificates/{id}/download`: the certificate file, as OpenSSH names it.
pub async fn download(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let row = visible_row(&state, &current.user, id).await?;
    let issued = certs::issued(&row).map_err(|_| ApiError::NotFound)?;
    let mut response = format!("{}\n", issued.certificate).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    // The file name is built from a fixed list of key types, so it needs no escaping.
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", issued.file_name))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// A row the person may see: their own, or any for admins and auditors. Others' rows are
/// answered as missing, so ids reveal nothing.
async fn visible_row(
    state: &AppState,
    user: &SessionUser,
    id: i64,
) -> Result<store::Row, ApiError> {
    let row = store::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    let own = row.username.eq_ignore_ascii_case(&user.username);
    if own || user.has_role(Role::Admin) || user.has_role(Role::Auditor) {
        Ok(row)
    } else {
        Err(ApiError::NotFound)
    }
}
