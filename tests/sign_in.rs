//! Signing in with Active Directory: roles, refusals, throttling and directory failures.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tokio::net::TcpListener;

use crate::support::{AppOptions, TestApp, directory, stack};

#[tokio::test]
async fn each_role_signs_in_and_sees_its_groups_roles_and_principals() {
    let app = TestApp::start().await;
    let cases = [
        ("alice", json!(["user"]), json!(["root", "zone-webservers"])),
        (
            "bob",
            json!(["user", "admin"]),
            json!(["root", "root-everywhere"]),
        ),
        ("carol", json!(["auditor"]), json!([])),
        ("grace", json!(["user"]), json!(["root", "zone-databases"])),
    ];
    for (username, roles, principals) in cases {
        let client = app.client();
        let answer = client.sign_in_as(username).await;
        assert_eq!(answer.body["username"], username);
        assert_eq!(answer.body["roles"], roles, "{username}");
        assert_eq!(answer.body["principals"], principals, "{username}");
        assert_eq!(
            answer.body["display_name"],
            stack().person(username).display_name
        );
        assert_eq!(answer.body["mail"], format!("{username}@corp.example.test"));

        let me = client.get("/api/me").await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.body, answer.body, "/api/me repeats the sign-in answer");
    }

    let audit = app.audit("sign_in").await;
    let actors: Vec<_> = audit.iter().map(|r| r.actor.as_deref().unwrap()).collect();
    assert_eq!(actors, ["alice", "bob", "carol", "grace"]);
    assert!(audit.iter().all(|r| r.outcome == "success"));
    assert_eq!(app.session_rows().await, 4);
}

#[tokio::test]
async fn nested_and_cyclic_groups_are_followed() {
    let app = TestApp::start().await;
    let bob = app.client().sign_in_as("bob").await;
    let groups = bob.body["groups"].as_array().unwrap();
    assert!(groups.contains(&json!("ops-team")));
    assert!(
        groups.contains(&json!("opsportal-admins")),
        "admin only through ops-team"
    );

    let alice = app.client().sign_in_as("alice").await;
    let groups = alice.body["groups"].as_array().unwrap();
    assert!(groups.contains(&json!("loop-a")) && groups.contains(&json!("loop-b")));
}

#[tokio::test]
async fn four_spellings_of_a_name_give_one_canonical_identity() {
    let app = TestApp::start().await;
    let password = &stack().person("yann").password;
    let mut identities = Vec::new();
    for spelling in ["yann", "YANN", "CORP\\yann", "yann@corp.example.test"] {
        let answer = app.client().sign_in(spelling, password).await;
        assert_eq!(answer.status, StatusCode::OK, "{spelling}: {}", answer.body);
        identities.push((
            answer.body["username"].clone(),
            answer.body["object_guid"].clone(),
        ));
    }
    assert!(
        identities.iter().all(|id| id == &identities[0]),
        "{identities:?}"
    );
    assert_eq!(identities[0].0, "yann");
    assert_eq!(identities[0].1.as_str().unwrap().len(), 36, "a GUID");
    let subjects: Vec<_> = app
        .audit("sign_in")
        .await
        .into_iter()
        .map(|r| r.subject)
        .collect();
    assert_eq!(
        subjects,
        vec![Some("yann".to_owned()); 4],
        "one throttle key for all spellings"
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = TestApp::start().await;
    let wrong = app.client().sign_in("wendy", "not-her-password").await;
    let unknown = app
        .client()
        .sign_in("nobody-by-this-name", "whatever-1A!")
        .await;

    let wrong_message = wrong.expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    let unknown_message = unknown.expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(wrong_message, unknown_message);
    assert_eq!(wrong_message, "Invalid username or password.");
    assert!(wrong.session_cookie().is_none() && unknown.session_cookie().is_none());

    let reasons = app.audit_reasons("sign_in").await;
    assert_eq!(
        reasons,
        [
            Some("ad_52e_bad_password".into()),
            Some("user_not_found".into())
        ]
    );
    assert_eq!(app.session_rows().await, 0);
}

#[tokio::test]
async fn an_empty_password_is_refused_without_binding() {
    let app = TestApp::start().await;
    let before = directory::bad_password_count("nina").await;
    let answer = app.client().sign_in("nina", "").await;
    answer.expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");

    // A bind with a wrong (or empty) password would have raised AD's bad-password count.
    assert_eq!(directory::bad_password_count("nina").await, before);
    let audit = app.audit("sign_in").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].reason.as_deref(), Some("empty_password"));
}

#[tokio::test]
async fn account_states_become_clear_refusals() {
    let app = TestApp::start().await;
    let cases = [
        (
            "dave",
            StatusCode::FORBIDDEN,
            "account_unavailable",
            "ad_533_disabled",
        ),
        (
            "erin",
            StatusCode::FORBIDDEN,
            "account_unavailable",
            "ad_701_account_expired",
        ),
        (
            "frank",
            StatusCode::FORBIDDEN,
            "password_change_required",
            "ad_773_must_change_password",
        ),
        (
            "mallory",
            StatusCode::FORBIDDEN,
            "not_authorized",
            "no_portal_role",
        ),
    ];
    for (username, status, code, _) in cases {
        let answer = app
            .client()
            .sign_in(username, &stack().person(username).password)
            .await;
        answer.expect_error(status, code);
        assert!(
            answer.session_cookie().is_none(),
            "{username} got a session"
        );
    }
    let reasons = app.failure_reasons("sign_in").await;
    let expected: Vec<_> = cases.iter().map(|c| c.3.to_owned()).collect();
    assert_eq!(reasons, expected);
    assert_eq!(app.session_rows().await, 0);
}

#[tokio::test]
async fn an_account_the_directory_locked_is_told_so_and_not_bound_again() {
    let app = TestApp::start().await;
    // Five wrong passwords at another client reach the domain's lockout threshold.
    for _ in 0..5 {
        assert_eq!(directory::bind_directly("lena", "wrong-password").await, 49);
    }
    let client = app.client();
    let password = &stack().person("lena").password;
    for _ in 0..3 {
        let answer = client.sign_in("lena", password).await;
        let message = answer.expect_error(StatusCode::FORBIDDEN, "account_locked");
        assert!(message.contains("locked"), "{message}");
    }
    // The portal counts the lockout like a failure: the attempt after the limit stays local.
    let throttled = client.sign_in("lena", password).await;
    throttled.expect_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    let reasons = app.failure_reasons("sign_in").await;
    assert_eq!(
        reasons,
        [
            "ad_775_locked_out",
            "ad_775_locked_out",
            "ad_775_locked_out",
            "throttled"
        ]
    );
    assert_eq!(app.session_rows().await, 0);
}

#[tokio::test]
async fn a_broken_service_account_is_the_portals_fault_not_the_persons() {
    let wrong = std::env::temp_dir().join(format!("svc-wrong-{}", uuid::Uuid::new_v4()));
    std::fs::write(&wrong, "not-the-service-password\n").unwrap();
    let app = TestApp::with(AppOptions {
        bind_password_file: wrong.clone(),
        ..AppOptions::default()
    })
    .await;
    let answer = app.client().sign_in_as_unchecked("alice").await;
    let message = answer.expect_error(StatusCode::SERVICE_UNAVAILABLE, "directory_unavailable");
    assert!(
        !message.contains("svc-portal") && !message.contains("CN="),
        "{message}"
    );
    let audit = app.audit("sign_in").await;
    assert_eq!(audit[0].reason.as_deref(), Some("service_bind_failed"));
    assert!(!audit[0].throttled, "not counted against alice");
    let ready = app.client().get("/readyz").await;
    ready.expect_error(StatusCode::SERVICE_UNAVAILABLE, "not_ready");
    std::fs::remove_file(wrong).unwrap();
}

#[tokio::test]
async fn filter_injection_in_the_username_matches_nobody() {
    let app = TestApp::start().await;
    let password = &stack().person("alice").password;
    let names = [
        "*",
        "al*",
        "*)(objectClass=*",
        "alice)(|(sAMAccountName=*",
        "alice\u{0}",
        "alice\\2a",
        "alice*",
    ];
    for name in names {
        let answer = app.client().sign_in(name, password).await;
        answer.expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let audit = app.audit("sign_in").await;
    assert_eq!(audit.len(), names.len());
    assert!(
        audit
            .iter()
            .all(|r| r.reason.as_deref() == Some("user_not_found")),
        "{audit:?}"
    );
}

#[tokio::test]
async fn malformed_sign_in_bodies_are_refused_without_binding() {
    let app = TestApp::start().await;
    let client = app.client();
    for body in [
        json!({ "username": "alice" }),
        json!({ "username": "alice", "password": null }),
        json!({ "username": "alice", "password": 12345 }),
        json!({ "username": "alice", "password": "x", "role": "admin" }),
        json!({ "username": "", "password": "x" }),
        json!({ "username": "alice", "password": "x".repeat(1025) }),
    ] {
        let answer = client.post("/api/session", &body).await;
        let message = answer.expect_error(StatusCode::BAD_REQUEST, "invalid_request");
        assert!(
            !message.contains("12345"),
            "the value is not echoed: {message}"
        );
    }
    assert!(
        app.audit("sign_in").await.is_empty(),
        "nothing reached the directory"
    );
}

#[tokio::test]
async fn throttling_engages_before_the_directory_would_lock_the_account() {
    // Two failures per run keep the account below the domain's lockout threshold of five even
    // when the suite runs twice within AD's one-minute observation window.
    let app = TestApp::with(AppOptions {
        max_failures_per_user: 2,
        ..AppOptions::default()
    })
    .await;
    let client = app.client();
    // A good sign-in resets a count still inside the window. One older than the window is no
    // longer counted by Samba, yet stays stored, so it is not checked here; the next bad
    // password starts the count afresh either way.
    client.sign_in_as("tina").await;
    assert!(directory::bad_password_count("tina").await <= 2);

    for _ in 0..2 {
        client
            .sign_in("tina", "wrong-password")
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    // The next attempt is refused by the portal, even with the right password.
    let throttled = client
        .sign_in("TINA", &stack().person("tina").password)
        .await;
    let message = throttled.expect_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    let retry_after: u64 = throttled.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (250..=300).contains(&retry_after),
        "retry after {retry_after} s"
    );
    assert!(
        message.contains(&format!("Try again in {retry_after} s")),
        "{message}"
    );

    assert_eq!(
        directory::bad_password_count("tina").await,
        2,
        "the throttled attempt never reached the directory"
    );
    let reasons = app.audit_reasons("sign_in").await;
    assert_eq!(
        reasons,
        [
            None,
            Some("ad_52e_bad_password".into()),
            Some("ad_52e_bad_password".into()),
            Some("throttled".into())
        ]
    );
}

#[tokio::test]
async fn a_directory_that_is_down_answers_unavailable_quickly() {
    let app = TestApp::with(AppOptions {
        directory_urls: vec!["ldaps://127.0.0.1:1".into()],
        ..AppOptions::default()
    })
    .await;
    let started = Instant::now();
    let answer = app.client().sign_in_as_unchecked("alice").await;
    answer.expect_error(StatusCode::SERVICE_UNAVAILABLE, "directory_unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let audit = app.audit("sign_in").await;
    assert_eq!(audit[0].reason.as_deref(), Some("directory_unreachable"));
    assert_eq!(app.session_rows().await, 0);
}

#[tokio::test]
async fn a_hung_directory_answers_unavailable_within_the_timeout() {
    // Accepts connections and never says a word, like a stopped process with an open socket.
    let hung = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ldaps://{}", hung.local_addr().unwrap());
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hung.accept().await {
            held.push(socket);
        }
    });
    let app = TestApp::with(AppOptions {
        directory_urls: vec![url],
        connect_timeout_secs: 2,
        ..AppOptions::default()
    })
    .await;

    let started = Instant::now();
    let answer = app.client().sign_in_as_unchecked("alice").await;
    let elapsed = started.elapsed();
    answer.expect_error(StatusCode::SERVICE_UNAVAILABLE, "directory_unavailable");
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );

    let ready = app.client().get("/readyz").await;
    ready.expect_error(StatusCode::SERVICE_UNAVAILABLE, "not_ready");
    assert!(
        ready.body["message"]
            .as_str()
            .unwrap()
            .contains("directory unavailable")
    );
    holder.abort();
}

#[tokio::test]
async fn a_second_domain_controller_takes_over_when_the_first_is_down() {
    let app = TestApp::with(AppOptions {
        directory_urls: vec![
            "ldaps://127.0.0.1:1".into(),
            stack().directory.ldaps_url.clone(),
        ],
        ..AppOptions::default()
    })
    .await;
    let answer = app.client().sign_in_as("alice").await;
    assert_eq!(answer.body["username"], "alice");
}
