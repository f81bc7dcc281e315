//! `/admin/fleet` and `/admin/hosts/:id/health` in the real web app, in headless Chromium, over
//! reports posted through the real metrics ingest and a certificate login through the real
//! log ingest.

use chrono::{Duration, SecondsFormat, Utc};
use opsportal_shared::health::*;
use reqwest::StatusCode;
use serde_json::json;

use crate::browser_history::{
    certificate_words, click, sign_in, sshd_line, texts, wait_for, wait_texts,
};
use crate::support::browser::Browser;
use crate::support::keys::KeyPair;
use crate::support::{Client, TestApp};

/// Reports each host sends, 10 s apart, the newest 5 s old: ten minutes of history.
const REPORTS: u64 = 60;
const CA_FINGERPRINT: &str = "SHA256:q2Vq1fW3bF0n5m0y7bC3sXo0l9Kc6d4i1zZr8uJpP0Q";

/// A report of the `n`th collection (from 1) of a host whose listener on 8443 is `failing`:
/// its accept queue climbs past the backlog, ListenOverflows rise and its descriptors near
/// their limit; sshd logs at INFO. The other host is healthy throughout.
fn report(n: u64, failing: bool) -> HostReport {
    let at = Utc::now() - Duration::seconds(((REPORTS - n) * 10 + 5) as i64);
    let process = |pid, comm: &str| ProcessRef {
        pid,
        comm: comm.into(),
    };
    let (queue, overflows, fds) = if failing {
        let queue = (n * 3).min(129) as u32;
        (queue, 1000 + n.saturating_sub(40) * 25, 600 + n * 5)
    } else {
        (0, 1000, 200)
    };
    let listener = |local: &str, port, accept_queue, comm| Listener {
        local: local.into(),
        port,
        accept_queue,
        backlog: 128,
        process: Some(process(4100, comm)),
    };
    HostReport {
        agent_id: format!("agent-{failing}-0000-4a57-8f3e-6a7b8c9d0e1f"),
        seq: n,
        agent_version: "0.3.1".into(),
        hostname: if failing { "app31" } else { "app32" }.into(),
        collected_at: at.to_rfc3339_opts(SecondsFormat::Millis, true),
        interval_secs: 10,
        spool_dropped: 0,
        rejected: 0,
        listeners: vec![
            listener("0.0.0.0:8443", 8443, queue, "appsrv"),
            listener("0.0.0.0:22", 22, 0, "sshd"),
        ],
        tcp: Some(TcpListenCounters {
            listen_overflows: overflows,
            listen_drops: overflows + 12,
        }),
        fds: FdReport {
            system: Some(SystemFiles {
                allocated: 9000,
                max: 100_000,
            }),
            top: vec![ProcessFds {
                process: process(4100, "appsrv"),
                open_fds: fds,
                soft_limit: Some(1024),
            }],
        },
        ipvs: if failing {
            IpvsReport::NotLoaded
        } else {
            IpvsReport::Loaded(IpvsState {
                version: "1.2.1".into(),
                table_size: 4096,
                connections: Some(300),
                services: Vec::new(),
            })
        },
        ssh: ssh_facts(if failing { "INFO" } else { "VERBOSE" }),
        problems: Vec::new(),
    }
}

fn ssh_facts(log_level: &str) -> SshFacts {
    SshFacts {
        config_path: "/etc/ssh/sshd_config".into(),
        config_readable: true,
        log_level: Some(log_level.into()),
        trusted_user_ca_keys: Some(CaKeysFile {
            path: "/etc/ssh/opsportal_ca.pub".into(),
            keys: vec![CaKey {
                algorithm: "ssh-ed25519".into(),
                fingerprint: CA_FINGERPRINT.into(),
                comment: "opsportal user CA".into(),
            }],
            error: None,
        }),
        authorized_principals_file: Some("/etc/ssh/principals/%u".into()),
        revoked_keys: Some(RevokedKeysFile {
            path: "/etc/ssh/revoked.krl".into(),
            sha256: Some("5e".repeat(32)),
            age_secs: Some(40),
        }),
        accounts: vec![SshAccount {
            name: "root".into(),
            uid: 0,
            home: "/root".into(),
            principals_file: Some("/etc/ssh/principals/root".into()),
            principals: Some(vec!["root".into(), "root-everywhere".into()]),
        }],
    }
}

/// Registers `name` and sends its ten minutes of reports; returns its id and token.
async fn reporting_host(app: &TestApp, admin: &Client, name: &str, failing: bool) -> (i64, String) {
    let id = app.add_host(admin, name, &[]).await;
    let token = app.host_token(admin, id, false).await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    for n in 1..=REPORTS {
        let body = serde_json::to_vec(&report(n, failing)).unwrap();
        let answer = app.push_report(Some(&token), body).await;
        assert_eq!(answer.body["stored"], true, "{}", answer.body);
    }
    (id, token)
}

#[tokio::test]
async fn the_fleet_puts_the_failing_host_first_and_its_page_shows_why_and_who_logged_in() {
    let app = TestApp::start().await;
    let admin = app.client();
    admin.sign_in_as("bob").await;
    let (red, token) = reporting_host(&app, &admin, "app31", true).await;
    reporting_host(&app, &admin, "app32", false).await;
    app.add_host(&admin, "app33", &[]).await;

    let alice = app.client();
    alice.sign_in_as("alice").await;
    let issued = alice
        .issue(&KeyPair::ed25519().public, Some(&["root"]), None)
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let login = sshd_line(
        7001,
        Utc::now() - Duration::minutes(4),
        &format!(
            "Accepted publickey for root from 10.20.0.7 port 40001 ssh2: {}",
            certificate_words(&issued.body)
        ),
    );
    let pushed = app.push_logs(Some(&token), &[login]).await;
    assert_eq!(pushed.body, json!({ "accepted": 1, "duplicates": 0 }));

    let browser = Browser::start().await;
    let c = &browser.client;
    sign_in(c, &app, "bob").await;
    click(c, ".nav a[href='/admin/fleet']").await;
    let rows = wait_texts(c, "#fleet-table tr.fleet-row", |r| r.len() == 3).await;
    let order = attribute_of_all(c, "#fleet-table tr.fleet-row", "data-host").await;
    assert_eq!(
        order,
        ["app31", "app32", "app33"],
        "worst first, silent last"
    );
    let badges = texts(c, "#fleet-table tr.fleet-row .health-badge").await;
    assert_eq!(badges, ["critical", "ok", "no reports"]);
    let classes = attribute_of_all(c, "#fleet-table .health-badge", "class").await;
    assert_eq!(classes[2], "health-badge silent");
    for part in [
        "Accept queue full on 0.0.0.0:8443 (appsrv pid 4100)",
        "critical",
        "0.3.1",
    ] {
        assert!(rows[0].contains(part), "{part:?} in {:?}", rows[0]);
    }
    assert!(
        rows[1].contains("none") && rows[2].contains("never"),
        "{rows:?}"
    );
    screenshot(c, "fleet.png").await;

    click(c, "#fleet-table tr[data-host='app31'] a").await;
    wait_for(c, "#host-health svg.chart").await;
    let path = format!("/admin/hosts/{red}/health");
    assert_eq!(c.current_url().await.unwrap().path(), path);
    wait_for(c, "svg.chart[data-chart='ipvs']").await;
    let kinds = attribute_of_all(c, "#host-health svg.chart", "data-chart").await;
    assert_eq!(kinds, ["queue", "queue", "rates", "fds", "ipvs"]);
    for kind in ["queue", "rates", "fds"] {
        let css = format!("svg.chart[data-chart='{kind}'] polyline.series");
        let points = attribute_of_all(c, &css, "points").await;
        assert!(
            !points.is_empty() && points.iter().all(|p| p.split(' ').count() > 10),
            "{kind}: {points:?}"
        );
    }
    let captions = texts(c, "#host-health figcaption").await;
    assert_eq!(captions[0], "Accept queue of 0.0.0.0:8443 (appsrv)");
    let ipvs = attribute_of_all(c, "svg.chart[data-chart='ipvs'] text", "textContent").await;
    assert!(ipvs.contains(&"IPVS not loaded".to_owned()), "{ipvs:?}");

    let critical = texts(c, "#findings li.finding.critical").await;
    let queue = critical
        .iter()
        .find(|f| f.contains("Accept queue full on 0.0.0.0:8443"))
        .unwrap_or_else(|| panic!("the queue finding in {critical:?}"));
    assert!(queue.contains("net.core.somaxconn"), "{queue}");
    let remedies = texts(c, "#findings li.finding.critical .remedy").await;
    assert!(
        remedies.iter().any(|r| r.contains("somaxconn")),
        "{remedies:?}"
    );
    let warnings = texts(c, "#findings li.finding.warning").await;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("sshd logs at INFO, below VERBOSE")
                && w.contains("LogLevel VERBOSE")),
        "{warnings:?}"
    );

    let facts = texts(c, "#ssh-facts").await.concat();
    for part in [
        CA_FINGERPRINT,
        "/etc/ssh/principals/%u",
        "/etc/ssh/principals/root",
        "root, root-everywhere",
        "INFO",
        &"5e".repeat(32),
        "written 40 s ago",
    ] {
        assert!(facts.contains(part), "{part:?} in {facts}");
    }
    let logins = wait_texts(c, "#host-logins tr.event-row", |r| r.len() == 1).await;
    for part in ["alice", "exact", "10.20.0.7:40001"] {
        assert!(logins[0].contains(part), "{part:?} in {logins:?}");
    }
    let marks =
        attribute_of_all(c, "#host-logins svg.strip .login-mark title", "textContent").await;
    assert_eq!(marks.len(), 1, "one mark on the strip: {marks:?}");
    assert!(
        marks[0].starts_with("alice from 10.20.0.7:40001"),
        "{marks:?}"
    );
    screenshot(c, "host-health.png").await;

    // Another window is another view of who logged in, recorded like the first.
    c.execute(
        "const s = document.getElementById('window-select');
         s.value = String(6 * 3600);
         s.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![],
    )
    .await
    .unwrap();
    let views = app
        .wait_for_count(
            "select count(*) from audit_event where event = 'host_health_view'",
            2,
            std::time::Duration::from_secs(15),
        )
        .await;
    assert_eq!(views, 2);
    wait_texts(c, "#host-logins tr.event-row", |r| r.len() == 1).await;

    browser.close().await;
}

/// The `name` attribute of every element `css` matches, in document order; `textContent`
/// reads the text, which SVG elements have no `innerText` for.
async fn attribute_of_all(c: &fantoccini::Client, css: &str, name: &str) -> Vec<String> {
    let found = c
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e =>
                 arguments[1] === 'textContent' ? e.textContent : e.getAttribute(arguments[1]) || '')",
            vec![json!(css), json!(name)],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

/// Saves the whole page to `target/screenshots/name`: the window is made as tall as the page
/// for the picture, then set back.
async fn screenshot(c: &fantoccini::Client, name: &str) {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&folder).unwrap();
    let height = c
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(900);
    c.set_window_size(1280, (height + 140).max(900) as u32)
        .await
        .unwrap();
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    std::fs::write(folder.join(name), c.screenshot().await.unwrap()).unwrap();
    c.set_window_size(1280, 900).await.unwrap();
}
