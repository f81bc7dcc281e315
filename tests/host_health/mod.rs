//! Host health end to end: the real agent reporting to a test portal ([`agent`]), and
//! hand-made reports the portal must store once, refuse, or not acknowledge ([`reports`]),
//! and their downsampling ([`rollup`]).

mod agent;
mod reports;
mod rollup;

use serde_json::Value;

use crate::support::{Client, TestApp};

/// A portal with a registered host `web01`; its admin client, the host's id and its token.
async fn portal_with_host() -> (TestApp, Client, i64, String) {
    let app = TestApp::start().await;
    let (admin, id, token) = app.host_with_token("web01", "127.0.0.1").await;
    (app, admin, id, token)
}

/// The highest value of a series of `{t, value}` points.
fn highest(points: &Value) -> f64 {
    points
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p["value"].as_f64().expect("value"))
        .fold(0.0, f64::max)
}
