//! Lines get to the portal once: across agent restarts, a crash between the portal's
//! acknowledgement and the checkpoint, SIGKILL mid-stream, and a portal that is away.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use opsportal_agent::push::{PortalClient, PortalSettings};
use opsportal_agent::tail::reader::Line;
use opsportal_agent::tail::ship::{Delivery, Shipper};
use opsportal_shared::ingest::IngestAck;

use super::{
    LogDir, WAIT, assert_ports, closed, closed_lines, follow, portal_with_host, sequence_numbers,
    size, stored_ports, wait_for_checkpoint, wait_for_events,
};
use crate::support::ingest::sample;

const DUPLICATES: &str = "opsportal_ingest_duplicate_total";

#[tokio::test]
async fn a_restart_resumes_at_the_checkpoint_without_gaps_or_copies() {
    let (app, _admin, host, token) = portal_with_host().await;
    let logs = LogDir::new();
    logs.append(&closed_lines(1..=100));
    let mut agent = follow(
        &app,
        &token,
        &[&logs.log],
        &["--tail-log-batch-lines", "30"],
    );
    assert_eq!(wait_for_events(&app, host, 100).await, 100);
    let checkpoint = wait_for_checkpoint(&agent, &logs.log, |c| c["next_seq"] == 101).await;
    agent.stop().await;
    assert_eq!(checkpoint["next_seq"], 101, "{checkpoint}");
    assert_eq!(checkpoint["position"]["offset"], size(&logs.log));

    // Written while the agent is stopped: read from the checkpoint once it is back.
    logs.append(&closed_lines(101..=200));
    agent.restart();
    assert_eq!(wait_for_events(&app, host, 200).await, 200);
    let checkpoint = wait_for_checkpoint(&agent, &logs.log, |c| c["next_seq"] == 201).await;
    agent.stop().await;

    assert_ports(&stored_ports(&app, host).await, 1..=200);
    assert_eq!(sequence_numbers(&app).await, (200, 1, 200));
    assert_eq!(
        sample(&app.metrics().await, DUPLICATES),
        0,
        "nothing sent twice"
    );
    assert_eq!(checkpoint["position"]["offset"], size(&logs.log));
    let streams: Vec<String> = sqlx::query_scalar("select name from log_stream")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(streams, [checkpoint["stream"].as_str().unwrap()]);
    let agent_id = std::fs::read_to_string(agent.dir.join("spool/agent-id")).unwrap();
    assert!(
        streams[0].starts_with(&format!("{}:{}#", agent_id.trim(), logs.log.display())),
        "the stream names the agent and the file: {}",
        streams[0]
    );
}

#[tokio::test]
async fn lines_resent_after_a_crash_before_the_checkpoint_are_counted_as_duplicates() {
    let (app, _admin, host, token) = portal_with_host().await;
    let logs = LogDir::new();
    logs.append(&closed_lines(1..=40));
    let mut agent = follow(
        &app,
        &token,
        &[&logs.log],
        &["--tail-log-batch-lines", "15"],
    );
    wait_for_events(&app, host, 40).await;
    wait_for_checkpoint(&agent, &logs.log, |c| c["next_seq"] == 41).await;
    agent.stop().await;
    let file = agent.checkpoint_file(&logs.log).expect("checkpoint file");
    let before = std::fs::read(&file).unwrap();

    logs.append(&closed_lines(41..=70));
    agent.restart();
    wait_for_events(&app, host, 70).await;
    wait_for_checkpoint(&agent, &logs.log, |c| c["next_seq"] == 71).await;
    agent.stop().await;
    // As if the agent had died after the portal acknowledged lines 41 to 70 and before it
    // wrote its checkpoint: the checkpoint still says 41.
    std::fs::write(&file, &before).unwrap();

    agent.restart();
    let checkpoint = wait_for_checkpoint(&agent, &logs.log, |c| c["next_seq"] == 71).await;
    agent.stop().await;
    assert_eq!(checkpoint["next_seq"], 71, "{checkpoint}");
    assert_eq!(
        sample(&app.metrics().await, DUPLICATES),
        30,
        "the portal acknowledged the 30 resent lines as duplicates"
    );
    assert_ports(&stored_ports(&app, host).await, 1..=70);
    assert_eq!(sequence_numbers(&app).await, (70, 1, 70));
}

#[tokio::test]
async fn the_portal_acknowledges_a_batch_sent_again_as_duplicates() {
    let (app, _admin, host, token) = portal_with_host().await;
    let dir = LogDir::new();
    let token_file = dir.dir.join("token");
    std::fs::write(&token_file, &token).unwrap();
    let client = PortalClient::new(&PortalSettings {
        url: app.url("").parse().unwrap(),
        token_file,
        ca_file: None,
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    let shipper = Shipper::new(client, "agent-x:/var/log/auth.log#00000000".into());
    let lines: Vec<Line> = (1..=3)
        .map(|port| Line {
            text: closed(port).trim_end().to_owned(),
            cut: 0,
        })
        .collect();
    let body = shipper.body(1, &lines, &chrono::Local::now()).unwrap();

    let first = shipper.send(body.clone(), 3).await.unwrap();
    assert_eq!(
        first,
        Delivery::Stored(IngestAck {
            accepted: 3,
            duplicates: 0
        })
    );
    let again = shipper.send(body, 3).await.unwrap();
    assert_eq!(
        again,
        Delivery::Stored(IngestAck {
            accepted: 0,
            duplicates: 3
        })
    );
    assert_ports(&stored_ports(&app, host).await, 1..=3);
}

#[tokio::test]
async fn killed_mid_stream_the_agent_loses_and_doubles_nothing() {
    let (app, _admin, host, token) = portal_with_host().await;
    let logs = LogDir::new();
    logs.append(&closed_lines(1..=3000));
    let mut agent = follow(
        &app,
        &token,
        &[&logs.log],
        &["--tail-log-batch-lines", "10"],
    );
    wait_for_events(&app, host, 300).await;
    agent.kill();
    let at_kill = app
        .count(&format!(
            "select count(*) from log_event where host_id = {host}"
        ))
        .await;
    assert!(
        (300..3000).contains(&at_kill),
        "killed mid-stream: {at_kill}"
    );

    agent.restart();
    // 270 batches of 10 lines: on a machine busy with the other tests this has taken longer
    // than the usual wait.
    let stored = app
        .wait_for_count(
            &format!("select count(*) from log_event where host_id = {host}"),
            3000,
            std::time::Duration::from_secs(120),
        )
        .await;
    assert_eq!(stored, 3000);
    wait_for_checkpoint(&agent, &logs.log, |c| c["next_seq"] == 3001).await;
    agent.stop().await;
    assert_ports(&stored_ports(&app, host).await, 1..=3000);
    assert_eq!(sequence_numbers(&app).await, (3000, 1, 3000));
    let duplicates = sample(&app.metrics().await, DUPLICATES);
    assert!(
        duplicates <= 10,
        "at most the batch in flight was sent again: {duplicates}"
    );
}

#[tokio::test]
async fn a_portal_away_and_back_gets_every_line_once() {
    let (mut app, _admin, host, token) = portal_with_host().await;
    let logs = LogDir::new();
    logs.append(&closed_lines(1..=50));
    let mut agent = follow(&app, &token, &[&logs.log], &[]);
    wait_for_events(&app, host, 50).await;

    let addr = app.addr;
    let log = logs.log.clone();
    // Lines written, and the file rotated twice, once nothing answers on the portal's port.
    let written_while_away = async move {
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(addr).is_ok() {
            assert!(Instant::now() < deadline, "the portal did not go away");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        LogDir::append_to(&log, &closed_lines(51..=100));
        LogDir::rotate(&log, &closed_lines(101..=120));
        LogDir::rotate(&log, &closed_lines(121..=150));
    };
    tokio::join!(
        app.restart_after(Duration::from_secs(3)),
        written_while_away
    );

    assert_eq!(wait_for_events(&app, host, 150).await, 150);
    wait_for_checkpoint(&agent, &logs.log, |c| c["next_seq"] == 151).await;
    agent.stop().await;
    assert_ports(&stored_ports(&app, host).await, 1..=150);
    assert_eq!(sequence_numbers(&app).await, (150, 1, 150));
}
