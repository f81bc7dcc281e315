//! What stored log lines become: text kept as sent, sessions with their failures and end,
//! logins attributed to people, and pages of the audit search.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::ingest::{closed, sshd_line};

#[tokio::test]
async fn text_with_tabs_backslashes_newlines_and_nul_is_stored_as_sent() {
    let app = TestApp::start().await;
    let (_, host, token) = app.host_with_token("web01", "127.0.0.2").await;
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
    let (_, host, token) = app.host_with_token("web07", "127.0.0.8").await;
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
    let (_, _, token) = app.host_with_token("web05", "127.0.0.6").await;
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
    let ndjson = carol.get_text("/api/audit/export?format=ndjson").await;
    assert_eq!(ndjson.lines().count(), lines.len());
    assert_eq!(app.audit("audit_export").await.len(), 2);
}

#[tokio::test]
async fn pages_follow_each_other_without_gaps_or_repeats() {
    let app = TestApp::start().await;
    let (_, _, token) = app.host_with_token("web06", "127.0.0.7").await;
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
