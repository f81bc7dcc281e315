//! HTTP log ingest: host tokens, batches stored once, bad batches refused whole, and limits.
//! What the stored lines become is in `log_stored`.

use std::io::Write;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::ingest::{closed, sample, sshd_line};
use crate::support::{AppOptions, TestApp};

const EVENTS: &str = "select count(*) from log_event";

#[tokio::test]
async fn numbered_lines_are_stored_once_however_often_they_are_sent() {
    let app = TestApp::start().await;
    let (_, _, token) = app.host_with_token("web01", "127.0.0.2").await;
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
async fn a_batch_with_one_bad_line_is_refused_whole() {
    let app = TestApp::start().await;
    let (_, host, token) = app.host_with_token("web02", "127.0.0.3").await;
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
    let (admin, host, token) = app.host_with_token("web03", "127.0.0.4").await;
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
    let (_, _, token) = app.host_with_token("web04", "127.0.0.5").await;

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
