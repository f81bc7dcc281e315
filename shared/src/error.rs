//! The one error body every non-2xx API answer carries.

use serde::{Deserialize, Serialize};

/// Body of every error answer: a stable machine code, a sentence for people, and the request id
/// that ties the answer to the portal's log lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable snake_case code, e.g. `invalid_credentials`.
    pub error: String,
    /// A sentence that can be shown to the person as it is.
    pub message: String,
    /// Request id, also present in the `x-request-id` header and the server's logs.
    pub request_id: String,
}
