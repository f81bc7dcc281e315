//! Host health: the fleet at a glance and one host over a window of time.

use opsportal_shared::health::{FleetView, HostHealthView};

use super::{ApiError, call, encode};

pub async fn fleet() -> Result<FleetView, ApiError> {
    call("GET", "/api/admin/fleet", None::<&()>).await
}

/// One host's charts, findings, sshd facts and logins between `from` and `to` (RFC 3339).
pub async fn host_health(
    host_id: i64,
    from: String,
    to: String,
) -> Result<HostHealthView, ApiError> {
    let path = format!(
        "/api/admin/hosts/{host_id}/health?from={}&to={}",
        encode(&from),
        encode(&to)
    );
    call("GET", &path, None::<&()>).await
}
