//! What happens to the followed file: rotation by rename (while the agent runs, and while it
//! is stopped), truncation, a last line still being written, a line longer than the limit,
//! and starting at the end of a file.

use std::io::Write;

use super::{
    LogDir, assert_ports, closed, closed_lines, follow, inode, portal_with_host, sequence_numbers,
    size, stored_ports, wait_for_checkpoint, wait_for_events,
};

#[tokio::test]
async fn rotation_by_rename_finishes_the_old_file_then_reads_the_new_one() {
    let (app, _admin, host, token) = portal_with_host().await;
    let logs = LogDir::new();
    logs.append(&closed_lines(1..=10));
    let mut agent = follow(&app, &token, &[&logs.log], &[]);
    wait_for_events(&app, host, 10).await;

    // logrotate renames the file and makes a new one; the writer still holds the old one
    // until it reopens, and adds lines to it, the last cut short as the writer dies.
    let mut writer = std::fs::OpenOptions::new()
        .append(true)
        .open(&logs.log)
        .unwrap();
    let rotated = logs.dir.join("auth.log.1");
    std::fs::rename(&logs.log, &rotated).unwrap();
    logs.append(&closed_lines(101..=110));
    let last = closed(16);
    writer
        .write_all(format!("{}{}", closed_lines(11..=15), last.trim_end()).as_bytes())
        .unwrap();
    drop(writer);

    assert_eq!(wait_for_events(&app, host, 26).await, 26);
    let checkpoint = wait_for_checkpoint(&agent, &logs.log, |c| c["next_seq"] == 27).await;
    agent.stop().await;
    assert_ports(&stored_ports(&app, host).await, (1..=16).chain(101..=110));
    assert_eq!(sequence_numbers(&app).await, (26, 1, 26));
    assert_eq!(checkpoint["position"]["id"]["ino"], inode(&logs.log));
    assert_eq!(checkpoint["position"]["offset"], size(&logs.log));
}

#[tokio::test]
async fn a_rotation_while_the_agent_was_stopped_is_finished_from_the_checkpoint() {
    let (app, _admin, host, token) = portal_with_host().await;
    let logs = LogDir::new();
    logs.append(&closed_lines(1..=10));
    let mut agent = follow(&app, &token, &[&logs.log], &[]);
    wait_for_events(&app, host, 10).await;
    wait_for_checkpoint(&agent, &logs.log, |c| c["next_seq"] == 11).await;
    agent.stop().await;

    logs.append(&closed_lines(11..=20));
    std::fs::rename(&logs.log, logs.dir.join("auth.log.1")).unwrap();
    logs.append(&closed_lines(101..=105));
    agent.restart();

    assert_eq!(wait_for_events(&app, host, 25).await, 25);
    let checkpoint = wait_for_checkpoint(&agent, &logs.log, |c| c["next_seq"] == 26).await;
    agent.stop().await;
    assert_ports(&stored_ports(&app, host).await, (1..=20).chain(101..=105));
    assert_eq!(checkpoint["position"]["id"]["ino"], inode(&logs.log));
}

#[tokio::test]
async fn a_truncated_file_is_read_again_from_its_start() {
    let (app, _admin, host, token) = portal_with_host().await;
    let logs = LogDir::new();
    logs.append(&closed_lines(1..=20));
    let mut agent = follow(&app, &token, &[&logs.log], &[]);
    wait_for_events(&app, host, 20).await;

    // copytruncate: the same file, emptied, then written again, shorter than before.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&logs.log)
        .unwrap();
    file.set_len(0).unwrap();
    drop(file);
    logs.append(&closed_lines(101..=105));
    assert_eq!(wait_for_events(&app, host, 25).await, 25);

    // Emptied and at once written past the old offset: its first bytes tell.
    std::fs::write(&logs.log, closed_lines(201..=260)).unwrap();
    assert_eq!(wait_for_events(&app, host, 85).await, 85);
    wait_for_checkpoint(&agent, &logs.log, |c| c["next_seq"] == 86).await;
    agent.stop().await;
    assert_ports(
        &stored_ports(&app, host).await,
        (1..=20).chain(101..=105).chain(201..=260),
    );
}

#[tokio::test]
async fn a_last_line_without_its_newline_waits_for_it() {
    let (app, _admin, host, token) = portal_with_host().await;
    let logs = LogDir::new();
    let partial = closed(4);
    let (start, end) = partial.split_at(partial.len() / 2);
    // In one write, so that the read that finds the three lines also finds the half line.
    logs.append(&format!("{}{start}", closed_lines(1..=3)));
    let mut agent = follow(&app, &token, &[&logs.log], &[]);
    wait_for_events(&app, host, 3).await;
    let checkpoint = wait_for_checkpoint(&agent, &logs.log, |c| c["next_seq"] == 4).await;
    assert_eq!(
        checkpoint["position"]["offset"],
        closed_lines(1..=3).len(),
        "the offset stops before the half line"
    );

    logs.append(&format!("{end}{}", closed(5)));
    assert_eq!(wait_for_events(&app, host, 5).await, 5);
    agent.stop().await;
    assert_ports(&stored_ports(&app, host).await, 1..=5);
    let raw: Vec<String> =
        sqlx::query_scalar("select raw from log_event where host_id = $1 order by event_id")
            .bind(host)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        raw.len(),
        5,
        "the half line was not sent on its own: {raw:?}"
    );
    assert_eq!(raw[3], "Connection closed by 10.0.0.9 port 4 [preauth]");
}

#[tokio::test]
async fn a_line_longer_than_the_limit_is_cut_and_the_next_ones_follow() {
    let (app, _admin, host, token) = portal_with_host().await;
    let logs = LogDir::new();
    let long = format!("{} {}\n", closed(7).trim_end(), "x".repeat(20_000));
    logs.append(&format!("{long}{}", closed(8)));
    let mut agent = follow(
        &app,
        &token,
        &[&logs.log],
        &[
            "--tail-log-max-line-bytes",
            "512",
            "--tail-log-batch-bytes",
            "1024",
        ],
    );
    assert_eq!(wait_for_events(&app, host, 2).await, 2);
    wait_for_checkpoint(&agent, &logs.log, |c| c["next_seq"] == 3).await;
    agent.stop().await;

    let raw: Vec<String> =
        sqlx::query_scalar("select raw from log_event where host_id = $1 order by event_id")
            .bind(host)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(raw.len(), 2, "{raw:?}");
    let cut = &raw[0];
    assert!(cut.len() < 512, "cut to the limit: {} bytes", cut.len());
    assert!(cut.starts_with("Connection closed by 10.0.0.9 port 7 [preauth] xxx"));
    assert_eq!(
        raw[1], "Connection closed by 10.0.0.9 port 8 [preauth]",
        "the rest of the long line is no line of its own"
    );
    assert_eq!(sequence_numbers(&app).await, (2, 1, 2));
}

#[tokio::test]
async fn starting_at_the_end_sends_only_lines_written_afterwards() {
    let (app, _admin, host, token) = portal_with_host().await;
    let logs = LogDir::new();
    logs.append(&closed_lines(1..=10));
    let mut agent = follow(&app, &token, &[&logs.log], &["--tail-log-start", "end"]);
    let checkpoint = wait_for_checkpoint(&agent, &logs.log, |c| c["position"].is_object()).await;
    assert_eq!(checkpoint["position"]["offset"], size(&logs.log));
    assert_eq!(checkpoint["next_seq"], 1);

    logs.append(&closed_lines(11..=12));
    assert_eq!(wait_for_events(&app, host, 2).await, 2);
    agent.stop().await;
    assert_ports(&stored_ports(&app, host).await, 11..=12);
}
