//! HTTP log ingest: host tokens, batches stored once, bad batches refused whole, limits, and
//! attribution of the lines to the people whose certificates were used.

use std::io::Write;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::ingest::sample;
use crate::support::{AppOptions, Client, TestApp};

const EVENTS: &str = "select count(*) from log_event";

fn sshd_line(stream: Option<(&str, u64)>, message: &str) -> Value {
    let mut line = json!({
        "message": message,
        "program": "sshd",
        "pid": 4242,
        "timestamp": chrono::Utc::now().to_rfc3339(),
    });
    if let Some((stream, seq)) = stream {
        line["stream"] = json!(stream);
        line["seq"] = json!(seq);
    }
    line
}

fn closed(port: u16) -> String {
    format!("Connection closed by 10.0.0.9 port {port} [preauth]")
}

async fn host_with_token(app: &TestApp, name: &str, address: &str) -> (Client, i64, String) {
    let admin = app.client();
    admin.sign_in_as("bob").await;
    let host = app.add_host(&admin, name, &[address]).await;
    let token = app.host_token(&admin, host, false).await;
    let secret = token["token"].as_str().expect("token").to_owned();
    (admin, host, secret)
}

#[tokio::test]
async fn numbered_lines_are_stored_once_however_often_they_are_sent() {
    let app = TestApp::start().await;
    let (_, _, token) = host_with_token(&app, "web01", "127.0.0.2").await;
    let batch: Vec<Value> = (1..=3)
        .map(|seq| sshd_line(Some(("auth.log", seq)), &closed(5000 + seq as u16)))
        .collect();

    let first = app.push_logs(Some(&token), &batch).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body, json!({ "accepted": 3, "duplicates": 0 }));
    let again = app.push_logs(Some(&token), &batch).await;
    assert_eq!(again.body, json!({ "accepted": 0, "duplicates": 3 }));
    assert_eq!(app.count(EVENTS).await, 3);

    // The same new batch twice at once: one copy wins, the other waits and finds it stored.
    let next: Vec<Value> = (4..=6)
        .map(|seq| sshd_line(Some(("auth.log", seq)), &closed(5000 + seq as u16)))
        .collect();
    let (a, b) = tokio::join!(
        app.push_logs(Some(&token), &next),
        app.push_logs(Some(&token), &next)
    );
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK));
    let accepted = a.body["accepted"].as_u64().unwrap() + b.body["accepted"].as_u64().unwrap();
    let duplicates =
        a.body["duplicates"].as_u64().unwrap() + b.body["duplicates"].as_u64().unwrap();
    assert_eq!((accepted, duplicates), (3, 3));
    assert_eq!(app.count(EVENTS).await, 6);
    assert_eq!(
        app.count(
            "select count(distinct src_port) from log_event where kind = 'connection_closed'"
        )
        .await,
        6,
        "every line was read as sshd's"
    );

    // Identical lines without sequence numbers are separate events and both kept.
    let twins = vec![
        sshd_line(None, &closed(6000)),
        sshd_line(None, &closed(6000)),
    ];
    assert_eq!(
        app.push_logs(Some(&token), &twins).await.body,
        json!({ "accepted": 2, "duplicates": 0 })
    );
    assert_eq!(app.count(EVENTS).await, 8);

    let metrics = app.metrics().await;
    assert_eq!(sample(&metrics, "opsportal_ingest_duplicate_total"), 6);
    assert_eq!(
        sample(
            &metrics,
            "opsportal_ingest_accepted_total{transport=\"http\"}"
        ),
        8
    );
}

#[tokio::test]
async fn text_with_tabs_backslashes_newlines_and_nul_is_stored_as_sent() {
    let app = TestApp::start().await;
    let (_, host, token) = host_with_token(&app, "web01", "127.0.0.2").await;
    // An attacker chooses the user name; nothing in it may break the row or lose the line.
    let name = "a\tb\\c\nd\re\0f\"{g,h}\"";
    let message = format!("Invalid user {name} from 10.0.0.9 port 5001");
    let batch = [
        sshd_line(None, &message),
        sshd_line(None, "plain line, nothing special"),
    ];

    let pushed = app.push_logs(Some(&token), &batch).await;
    assert_eq!(pushed.body, json!({ "accepted": 2, "duplicates": 0 }));

    let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "select kind, username, raw from log_event where host_id = $1 order by event_id",
    )
    .bind(host)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let stored_name = name.replace('\0', "\u{fffd}");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, "invalid_user");
    assert_eq!(rows[0].1.as_deref(), Some(stored_name.as_str()));
    assert!(
        rows[0].2.ends_with(&message.replace('\0', "\u{fffd}")),
        "{}",
        rows[0].2
    );
    assert!(
        rows[1].2.ends_with("plain line, nothing special"),
        "{}",
        rows[1].2
    );
}

#[tokio::test]
async fn a_login_counts_its_connections_failures_and_ends_at_its_first_disconnect() {
    let app = TestApp::start().await;
    let (_, host, token) = host_with_token(&app, "web07", "127.0.0.8").await;
    let start = chrono::Utc::now() - chrono::TimeDelta::minutes(30);
    let at = |secs: i64| (start + chrono::TimeDelta::seconds(secs)).to_rfc3339();
    // Each connection has an sshd process of its own, numbered here by its port.
    let line = |secs: i64, message: String| {
        let port: u32 = message.split(" port ").nth(1).unwrap()[..5]
            .parse()
            .unwrap();
        json!({ "message": message, "program": "sshd", "pid": port, "timestamp": at(secs) })
    };
    let login = |port: u16| {
        format!(
            "Accepted publickey for root from 10.30.0.1 port {port} ssh2: ED25519 SHA256:k{port}"
        )
    };
    let disconnect = |port: u16| format!("Disconnected from user root 10.30.0.1 port {port}");
    let failure = |port: u16| {
        format!("Failed publickey for root from 10.30.0.1 port {port} ssh2: ED25519 SHA256:bad")
    };

    // Failed attempts before the login: one too long before to count, one in an earlier
    // batch, one in the login's own.
    let earlier = [line(-700, failure(41000)), line(-5, failure(41000))];
    assert_eq!(
        app.push_logs(Some(&token), &earlier).await.body,
        json!({ "accepted": 2, "duplicates": 0 })
    );
    let first = [
        line(-1, failure(41000)),
        line(0, login(41000)),
        line(0, login(41001)),
        // Login and disconnect in one batch.
        line(10, login(41003)),
        line(15, disconnect(41003)),
    ];
    assert_eq!(
        app.push_logs(Some(&token), &first).await.body,
        json!({ "accepted": 5, "duplicates": 0 })
    );
    let second = [
        // Another connection's end, and a disconnect nobody logged in for.
        line(65, disconnect(41000)),
        line(70, disconnect(41002)),
        // A later disconnect of an ended session changes nothing.
        line(90, disconnect(41003)),
    ];
    assert_eq!(
        app.push_logs(Some(&token), &second).await.body,
        json!({ "accepted": 3, "duplicates": 0 })
    );

    let carol = app.client();
    carol.sign_in_as("carol").await;
    let logins = carol
        .get("/api/audit/events?host=web07&kind=accepted")
        .await;
    assert_eq!(logins.status, StatusCode::OK, "{}", logins.body);
    let sessions: std::collections::BTreeMap<i64, (Value, Value)> = logins.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let port = e["src_port"].as_i64().unwrap();
            (
                port,
                (e["duration_secs"].clone(), e["failures_before"].clone()),
            )
        })
        .collect();
    assert_eq!(
        sessions,
        [
            (41000, (json!(65), json!(2))),
            (41001, (Value::Null, json!(0))),
            (41003, (json!(5), json!(0))),
        ]
        .into()
    );
    let sessions: Vec<(i32, bool)> = sqlx::query_as(
        "select src_port, ended_at is not null from log_session where host_id = $1
         order by src_port",
    )
    .bind(host)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(sessions, [(41000, true), (41001, false), (41003, true)]);
}

#[tokio::test]
async fn a_batch_with_one_bad_line_is_refused_whole() {
    let app = TestApp::start().await;
    let (_, host, token) = host_with_token(&app, "web02", "127.0.0.3").await;
    let good = sshd_line(Some(("s", 1)), &closed(1)).to_string();
    for body in [
        format!("{good}\nnot json\n"),
        format!("{good}\n{{\"seq\": 2}}\n"),
        format!("{good}\n{}\n", json!({ "message": "x".repeat(9000) })),
    ] {
        let answer = app.push_raw(Some(&token), body.into_bytes(), None).await;
        assert!(
            answer.status == StatusCode::BAD_REQUEST
                || answer.status == StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            answer.body
        );
        assert!(
            answer.body["message"].as_str().unwrap().contains("Line 2"),
            "the message names the line: {}",
            answer.body
        );
    }
    assert_eq!(
        app.count(EVENTS).await,
        0,
        "nothing of a refused batch is stored"
    );
    assert_eq!(
        app.count(&format!(
            "select rejected_total from ingest_host where host_id = {host}"
        ))
        .await,
        3
    );
    assert_eq!(
        app.count("select count(*) from log_seq").await,
        0,
        "no sequence number was claimed"
    );
}

#[tokio::test]
async fn missing_wrong_rotated_and_revoked_tokens_are_refused() {
    let app = TestApp::start().await;
    let (admin, host, token) = host_with_token(&app, "web03", "127.0.0.4").await;
    let line = [sshd_line(None, &closed(1))];

    for bad in [None, Some("opsp_wrong"), Some("")] {
        app.push_logs(bad, &line)
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    assert_eq!(
        app.push_logs(Some(&token), &line).await.status,
        StatusCode::OK
    );

    let rotated = app.host_token(&admin, host, true).await;
    assert_eq!(rotated["revoked"], 1);
    let new_token = rotated["token"].as_str().unwrap();
    app.push_logs(Some(&token), &line)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(
        app.push_logs(Some(new_token), &line).await.status,
        StatusCode::OK
    );

    let revoke = admin
        .post(
            &format!("/api/admin/tokens/{}/revoke", rotated["id"]),
            &json!({}),
        )
        .await;
    assert_eq!(revoke.status, StatusCode::OK, "{}", revoke.body);
    app.push_logs(Some(new_token), &line)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(
        app.count(EVENTS).await,
        2,
        "only the accepted batches are stored"
    );

    // Only the hash is kept.
    let stored = app
        .count(&format!(
            "select count(*) from ingest_token where token_hash = sha256('{new_token}'::bytea)"
        ))
        .await;
    assert_eq!(stored, 1);
    assert_eq!(
        app.count(&format!(
            "select count(*) from ingest_token where hint = '{new_token}'"
        ))
        .await,
        0
    );
    assert_eq!(app.audit("host_token_issue").await.len(), 2);
    assert_eq!(app.audit("host_token_revoke").await.len(), 1);

    let user = app.client();
    user.sign_in_as("alice").await;
    user.post(
        "/api/admin/hosts",
        &json!({ "name": "evil", "addresses": [] }),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden");
    user.get("/api/admin/hosts")
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    let listed = admin.get("/api/admin/hosts").await;
    assert_eq!(listed.body[0]["name"], "web03");
    assert_eq!(listed.body[0]["lines_total"], 2);
    assert_eq!(listed.body[0]["tokens"].as_array().unwrap().len(), 2);
    assert!(
        !listed.body.to_string().contains(new_token),
        "listing never shows a secret"
    );
}

#[tokio::test]
async fn oversized_batches_and_gzip_bombs_are_refused_without_storing() {
    let app = TestApp::with(AppOptions {
        max_batch_bytes: 64 * 1024,
        ..AppOptions::default()
    })
    .await;
    let (_, _, token) = host_with_token(&app, "web04", "127.0.0.5").await;

    let line = sshd_line(None, &closed(1)).to_string() + "\n";
    let big = line.repeat(100 * 1024 / line.len());
    let refused = app
        .push_raw(Some(&token), big.into_bytes(), None)
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert!(refused.contains("65536 bytes"), "{refused}");

    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1024 * 1024];
    for _ in 0..10 {
        bomb.write_all(&zeros).unwrap();
    }
    let bomb = bomb.finish().unwrap();
    assert!(bomb.len() < 64 * 1024, "the bomb itself fits the limit");
    app.push_raw(Some(&token), bomb, Some("gzip"))
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    app.push_raw(Some(&token), b"x".to_vec(), Some("br"))
        .await
        .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_encoding");
    assert_eq!(app.count(EVENTS).await, 0);

    let mut small = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    small.write_all(line.as_bytes()).unwrap();
    let answer = app
        .push_raw(Some(&token), small.finish().unwrap(), Some("gzip"))
        .await;
    assert_eq!(answer.body, json!({ "accepted": 1, "duplicates": 0 }));
    let metrics = app.metrics().await;
    assert_eq!(
        sample(
            &metrics,
            "opsportal_ingest_rejected_total{reason=\"too_large\"}"
        ),
        2
    );
}

/// The line sshd writes for a certificate login, from what the portal issued.
fn accepted_line(port: u16, issued: &Value, key_fingerprint: &str) -> String {
    format!(
        "Accepted publickey for root from 10.20.0.7 port {port} ssh2: ED25519-CERT {key_fingerprint} \
         ID {} (serial {}) CA ED25519 {}",
        issued["key_id"].as_str().unwrap(),
        issued["serial"].as_str().unwrap(),
        issued["ca_fingerprint"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn logins_are_attributed_by_serial_and_ca_and_the_odd_ones_flagged() {
    let app = TestApp::start().await;
    let (_, _, token) = host_with_token(&app, "web05", "127.0.0.6").await;
    let alice = app.client();
    alice.sign_in_as("alice").await;
    let (_, issued) = alice.root_certificate().await;
    let fingerprint = issued["key_fingerprint"].as_str().unwrap();
    let unknown_serial = json!({
        "key_id": "vault-ldap-grace-00ff",
        "serial": "18446744073709551615",
        "ca_fingerprint": issued["ca_fingerprint"],
    });
    let lines = [
        accepted_line(40001, &issued, fingerprint),
        accepted_line(
            40002,
            &issued,
            "SHA256:someotherkeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ),
        accepted_line(40003, &unknown_serial, fingerprint),
        "Accepted publickey for root from 10.20.0.8 port 40004 ssh2: ED25519 SHA256:plainkeyAAAA"
            .to_owned(),
        "Disconnected from user root 10.20.0.7 port 40001".to_owned(),
        "Invalid user =HYPERLINK(\"http://x\") from 10.20.0.9 port 40005".to_owned(),
    ];
    let batch: Vec<Value> = lines.iter().map(|l| sshd_line(None, l)).collect();
    assert_eq!(
        app.push_logs(Some(&token), &batch).await.status,
        StatusCode::OK
    );

    let mine = alice.get("/api/history").await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    let events = mine.body["events"].as_array().unwrap();
    let exact: Vec<&Value> = events
        .iter()
        .filter(|e| e["attribution"] == "exact")
        .collect();
    assert_eq!(exact.len(), 1, "{events:?}");
    assert_eq!(exact[0]["host"], "web05");
    assert_eq!(exact[0]["src_ip"], "10.20.0.7");
    assert_eq!(exact[0]["serial"], issued["serial"]);
    assert_eq!(exact[0]["person"], "alice");
    assert_eq!(exact[0]["flagged"], false);
    assert!(
        exact[0]["ended_at"].is_string(),
        "tied to its disconnect: {}",
        exact[0]
    );
    let suspicious: Vec<&Value> = events
        .iter()
        .filter(|e| e["attribution"] == "suspicious")
        .collect();
    assert_eq!(suspicious.len(), 1, "known serial, other key");
    assert_eq!(suspicious[0]["flagged"], true);
    assert!(
        events.iter().all(|e| e["person"] == "alice"),
        "a person sees only their own events"
    );

    let carol = app.client();
    carol.sign_in_as("carol").await;
    let flagged = carol.get("/api/audit/events?flagged=true").await;
    let attributions: Vec<&str> = flagged.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["attribution"].as_str().unwrap())
        .collect();
    assert_eq!(attributions.len(), 3, "{}", flagged.body);
    for expected in ["suspicious", "inferred", "non_ca"] {
        assert!(attributions.contains(&expected), "{attributions:?}");
    }
    let inferred = carol.get("/api/audit/events?person=grace").await;
    assert_eq!(inferred.body["events"][0]["attribution"], "inferred");
    let by_serial = carol
        .get(&format!(
            "/api/audit/events?serial={}",
            issued["serial"].as_str().unwrap()
        ))
        .await;
    assert_eq!(by_serial.body["events"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.audit("audit_search").await.len(),
        3,
        "every search is audited"
    );
    alice
        .get("/api/audit/events")
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");

    let csv = carol
        .http
        .get(app.url("/api/audit/export?format=csv&kind=invalid_user"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.unwrap();
    assert!(csv.contains("'=HYPERLINK"), "formula neutralised: {csv}");
    assert!(!csv.contains(",=HYPERLINK"), "{csv}");
    let ndjson = carol
        .http
        .get(app.url("/api/audit/export?format=ndjson"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(ndjson.lines().count(), lines.len());
    assert_eq!(app.audit("audit_export").await.len(), 2);
}

#[tokio::test]
async fn pages_follow_each_other_without_gaps_or_repeats() {
    let app = TestApp::start().await;
    let (_, _, token) = host_with_token(&app, "web06", "127.0.0.7").await;
    let batch: Vec<Value> = (0..25)
        .map(|i| sshd_line(None, &closed(7000 + i)))
        .collect();
    app.push_logs(Some(&token), &batch).await;
    let carol = app.client();
    carol.sign_in_as("carol").await;
    let mut seen = Vec::new();
    let mut path = "/api/audit/events?host=web06&limit=10".to_owned();
    loop {
        let page = carol.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for event in page.body["events"].as_array().unwrap() {
            seen.push(event["src_port"].as_i64().unwrap());
        }
        match page.body["next"].as_str() {
            Some(next) => path = format!("/api/audit/events?host=web06&limit=10&after={next}"),
            None => break,
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, (7000..7025).collect::<Vec<i64>>());
    carol
        .get("/api/audit/events?src=not-an-ip")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_request");
}
