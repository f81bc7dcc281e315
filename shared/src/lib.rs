//! The JSON types of the opsportal API.
//!
//! Both the server and the WebAssembly frontend depend on this crate, so it holds only plain
//! serde types and nothing that needs a server runtime. Each module covers one area of the API.

pub mod auth;
pub mod certs;
pub mod error;
pub mod health;
pub mod history;
pub mod ingest;

/// Header that every state-changing API call must carry.
///
/// Browsers refuse to attach a custom header to a cross-site request without a CORS preflight,
/// and the portal never answers preflights, so its presence proves the call came from the
/// portal's own pages (together with the Origin and Fetch-Metadata checks on the server).
pub const CSRF_HEADER: &str = "x-opsportal-csrf";

/// The value the frontend sends in [`CSRF_HEADER`].
pub const CSRF_HEADER_VALUE: &str = "1";
