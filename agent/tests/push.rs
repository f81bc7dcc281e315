//! Pushing through the spool to a small stand-in for the portal's ingest endpoint: order,
//! bounds, drop counting, crash leftovers, and what each kind of answer does.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opsportal_agent::push::{Drained, PortalClient, PortalSettings, Pusher, Spool, SpoolLimits};

const TOKEN: &str = "host-token-for-tests";

/// What the stand-in received, and the answers it gives next (200 once the list is empty).
#[derive(Default)]
struct Portal {
    received: Vec<u64>,
    answers: VecDeque<(StatusCode, &'static str)>,
}

type Shared = Arc<Mutex<Portal>>;

async fn ingest(State(portal): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let mut portal = portal.lock().unwrap();
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {TOKEN}"))
    {
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"error":"invalid_token","message":"","request_id":""}"#,
        )
            .into_response();
    }
    let seq = serde_json::from_str::<serde_json::Value>(&body).unwrap()["seq"]
        .as_u64()
        .unwrap();
    let (status, error) = portal.answers.pop_front().unwrap_or((StatusCode::OK, ""));
    if status == StatusCode::OK {
        portal.received.push(seq);
        return StatusCode::OK.into_response();
    }
    let mut response = (
        status,
        format!(r#"{{"error":"{error}","message":"","request_id":"r1"}}"#),
    )
        .into_response();
    response
        .headers_mut()
        .insert("retry-after", "1".parse().unwrap());
    response
}

async fn start_portal(address: SocketAddr, portal: Shared) {
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let app = Router::new()
        .route("/api/ingest/metrics", post(ingest))
        .with_state(portal);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

/// A loopback address where nothing listens (yet).
fn free_address() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn pusher(dir: &Path, address: SocketAddr, limits: SpoolLimits) -> Pusher {
    let token_file = dir.join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let settings = PortalSettings {
        url: format!("http://{address}").parse().unwrap(),
        token_file,
        ca_file: None,
        timeout: Duration::from_secs(2),
    };
    let spool = Spool::open(&dir.join("spool"), limits).unwrap();
    Pusher::new(spool, PortalClient::new(&settings).unwrap())
}

fn body(seq: u64) -> Vec<u8> {
    format!(r#"{{"seq":{seq},"padding":"{}"}}"#, "x".repeat(100)).into_bytes()
}

const ROOMY: SpoolLimits = SpoolLimits {
    max_reports: 100,
    max_bytes: 1 << 20,
};

#[tokio::test]
async fn reports_wait_for_a_portal_restart_and_arrive_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let address = free_address();
    let mut pusher = pusher(dir.path(), address, ROOMY);
    for seq in 1..=4 {
        pusher.enqueue(seq, &body(seq)).unwrap();
        let drained = pusher.drain().await.unwrap();
        assert_eq!(
            drained,
            Drained {
                stored: 0,
                rejected: 0,
                pending: seq as usize
            }
        );
    }

    let portal = Shared::default();
    start_portal(address, portal.clone()).await;
    pusher.enqueue(5, &body(5)).unwrap();
    let drained = pusher.drain().await.unwrap();

    assert_eq!(
        drained,
        Drained {
            stored: 5,
            rejected: 0,
            pending: 0
        }
    );
    assert_eq!(portal.lock().unwrap().received, [1, 2, 3, 4, 5]);
    let left = std::fs::read_dir(dir.path().join("spool")).unwrap().count();
    assert_eq!(left, 0, "sent reports leave the disk");
}

#[tokio::test]
async fn full_spool_drops_the_oldest_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let limits = SpoolLimits {
        max_reports: 3,
        max_bytes: 1 << 20,
    };
    let mut pusher = pusher(dir.path(), free_address(), limits);
    for seq in 1..=5 {
        pusher.enqueue(seq, &body(seq)).unwrap();
    }
    assert_eq!(pusher.pending(), [3, 4, 5]);
    assert_eq!(pusher.take_counts(), (2, 0), "two dropped, none rejected");
    assert_eq!(pusher.take_counts(), (0, 0), "counted once");

    let by_bytes = SpoolLimits {
        max_reports: 100,
        max_bytes: 2 * body(1).len() as u64,
    };
    let mut pusher = pusher_in(dir.path().join("b").as_path(), by_bytes);
    for seq in 1..=3 {
        pusher.enqueue(seq, &body(seq)).unwrap();
    }
    assert_eq!(pusher.pending(), [2, 3]);
    assert_eq!(pusher.take_counts().0, 1);
}

fn pusher_in(dir: &Path, limits: SpoolLimits) -> Pusher {
    std::fs::create_dir_all(dir).unwrap();
    pusher(dir, free_address(), limits)
}

#[tokio::test]
async fn spool_survives_a_restart_and_ignores_half_written_files() {
    let dir = tempfile::tempdir().unwrap();
    let address = free_address();
    {
        let mut first = pusher(dir.path(), address, ROOMY);
        first.enqueue(7, &body(7)).unwrap();
        first.enqueue(8, &body(8)).unwrap();
    }
    // What a crash in the middle of writing report 9 leaves behind.
    let partial = dir.path().join("spool/00000000000000000009.json.tmp");
    std::fs::write(&partial, &body(9)[..20]).unwrap();

    let portal = Shared::default();
    start_portal(address, portal.clone()).await;
    let mut again = pusher(dir.path(), address, ROOMY);
    assert!(!partial.exists(), "leftover removed at start");
    assert_eq!(again.pending(), [7, 8]);
    again.drain().await.unwrap();
    assert_eq!(portal.lock().unwrap().received, [7, 8]);
}

#[tokio::test]
async fn invalid_reports_are_dropped_and_counted_busy_portal_is_retried_later() {
    let dir = tempfile::tempdir().unwrap();
    let address = free_address();
    let portal = Shared::default();
    portal.lock().unwrap().answers = VecDeque::from([
        (StatusCode::BAD_REQUEST, "invalid_metric"),
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    ]);
    start_portal(address, portal.clone()).await;
    let mut pusher = pusher(dir.path(), address, ROOMY);
    for seq in 1..=3 {
        pusher.enqueue(seq, &body(seq)).unwrap();
    }

    let first = pusher.drain().await.unwrap();
    assert_eq!(
        first,
        Drained {
            stored: 0,
            rejected: 1,
            pending: 2
        },
        "1 rejected, 2 hit the 503"
    );
    assert_eq!(pusher.take_counts(), (0, 1));
    let early = pusher.drain().await.unwrap();
    assert_eq!(early.stored, 0, "Retry-After: 1 is respected");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = pusher.drain().await.unwrap();
    assert_eq!(
        later,
        Drained {
            stored: 2,
            rejected: 0,
            pending: 0
        }
    );
    assert_eq!(portal.lock().unwrap().received, [2, 3]);
}

#[tokio::test]
async fn refused_token_keeps_the_spool() {
    let dir = tempfile::tempdir().unwrap();
    let address = free_address();
    let portal = Shared::default();
    start_portal(address, portal.clone()).await;
    let mut pusher = pusher(dir.path(), address, ROOMY);
    std::fs::write(dir.path().join("token"), "wrong").unwrap();
    pusher.enqueue(1, &body(1)).unwrap();

    assert_eq!(pusher.drain().await.unwrap().pending, 1);
    assert_eq!(pusher.take_counts(), (0, 0), "not counted as rejected");

    std::fs::write(dir.path().join("token"), TOKEN).unwrap();
    assert_eq!(
        pusher.drain().await.unwrap().stored,
        1,
        "a new token is read without restart"
    );
    assert_eq!(portal.lock().unwrap().received, [1]);
}
