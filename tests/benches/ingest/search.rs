//! Search latency over ten million stored events: the fill, warm-up searches that match
//! nothing, a person's newest events and a host's logins in a day through the portal's API,
//! and grep over the same lines in a flat file.

use std::process::Command;
use std::time::Instant;

use sqlx::PgPool;

use super::{DAYS, HOSTS, PEOPLE, Portal, SEARCHES, STORED, psql};

/// Latencies in milliseconds: (p50, p99) of each search kind, and grep's single runs.
pub struct Search {
    pub person: (f64, f64),
    pub host_day: (f64, f64),
    pub grep_person_ms: f64,
    pub grep_host_ms: f64,
    pub file_mb: f64,
}

pub async fn latency(portal: &Portal, db: &PgPool) -> anyhow::Result<Search> {
    fill(db).await?;
    let carol = portal.signed_in("carol").await?;
    let today = chrono::Utc::now().date_naive();
    warm_up_searches(portal, db, &carol, today).await?;
    let mut person = Vec::new();
    let mut host_day = Vec::new();
    for i in 0..SEARCHES as i64 {
        let url = portal.url(&format!(
            "/api/audit/events?person=user{}&limit=100",
            i * 7919 % PEOPLE
        ));
        person.push(timed_get(&carol, &url).await?);
        let day = today - chrono::Days::new((i % DAYS) as u64 + 1);
        let url = portal.url(&format!(
            "/api/audit/events?host=host{}&kind=accepted&from={day}T00:00:00Z&to={}T00:00:00Z&limit=500",
            1 + i * 104_729 % HOSTS,
            day + chrono::Days::new(1)
        ));
        host_day.push(timed_get(&carol, &url).await?);
    }

    let file = std::env::temp_dir().join("opsportal-bench-lines.txt");
    psql(
        &portal.database_url(),
        &format!(
            "\\copy (select raw from log_event order by event_at) to '{}'",
            file.display()
        ),
    )?;
    let file_mb = std::fs::metadata(&file)?.len() as f64 / 1e6;
    let day = today - chrono::Days::new(3);
    let grep_person_ms = shell_ms(&format!(
        "grep -F 'portal-user17-' {} | tail -n 100 > /dev/null",
        file.display()
    ))?;
    let grep_host_ms = shell_ms(&format!(
        "grep -F ' host42 ' {} | grep -F 'Accepted' | grep -F '{day}T' > /dev/null",
        file.display()
    ))?;
    let _ = std::fs::remove_file(&file);
    Ok(Search {
        person: percentiles("a person's newest 100", &mut person),
        host_day: percentiles("a host's logins in one day", &mut host_day),
        grep_person_ms,
        grep_host_ms,
        file_mb,
    })
}

/// Searches of both kinds that match nothing: for a person nobody is, and for every day's
/// logins of a host that sent no line. They load what any search needs once after a start
/// (the catalogue of every partition, the portal's prepared statements, the indexes' upper
/// pages) without reading a single row a measured search returns, so the first measured
/// searches are not timed loading it.
async fn warm_up_searches(
    portal: &Portal,
    db: &PgPool,
    auditor: &reqwest::Client,
    today: chrono::NaiveDate,
) -> anyhow::Result<()> {
    sqlx::query("insert into ingest_host (name, created_by) values ('silent', 'bench')")
        .execute(db)
        .await?;
    for back in 1..=DAYS {
        let day = today - chrono::Days::new(back as u64);
        for url in [
            "/api/audit/events?person=nobody&limit=100".to_owned(),
            format!(
                "/api/audit/events?host=silent&kind=accepted&from={day}T00:00:00Z&to={}T00:00:00Z&limit=500",
                day + chrono::Days::new(1)
            ),
        ] {
            timed_get(auditor, &portal.url(&url)).await?;
        }
    }
    Ok(())
}

/// Fills `log_event` to [`STORED`] rows over [`DAYS`] days, [`HOSTS`] hosts and [`PEOPLE`]
/// people, a million rows per statement.
async fn fill(db: &PgPool) -> anyhow::Result<()> {
    sqlx::query(
        "insert into ingest_host (name, created_by)
         select 'host' || g, 'bench' from generate_series(1, $1) g",
    )
    .bind(HOSTS)
    .execute(db)
    .await?;
    for back in 0..=DAYS + 1 {
        let day = chrono::Utc::now().date_naive() - chrono::Days::new(back as u64);
        let next = day + chrono::Days::new(1);
        sqlx::query(&format!(
            "create table if not exists log_event_{} partition of log_event \
             for values from ('{day} 00:00:00+00') to ('{next} 00:00:00+00')",
            day.format("%Y%m%d")
        ))
        .execute(db)
        .await?;
    }
    let have: i64 = sqlx::query_scalar("select count(*) from log_event")
        .fetch_one(db)
        .await?;
    let chunk = 1_000_000;
    let mut from = have;
    while from < STORED {
        let to = (from + chunk).min(STORED);
        sqlx::query(
            "insert into log_event (received_at, event_at, host_id, transport, program, pid, kind,
                username, src_ip, src_port, method, key_type, key_fingerprint, key_id, serial,
                ca_fingerprint, person, attribution, raw)
             select t, t, h, 'tcp', 'sshd', (g % 30000)::int, k, 'root',
                ('10.' || (g % 250) || '.' || (g / 250 % 250) || '.1')::inet, (1024 + g % 60000)::int,
                'publickey', 'ED25519-CERT', 'SHA256:key' || p, 'portal-user' || p || '-ab', g,
                'SHA256:benchca', case when k in ('accepted', 'failed') then 'user' || p end,
                case when k in ('accepted', 'failed') then 'exact' end,
                '<38>1 ' || to_char(t at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || 'Z host' || h
                  || ' sshd ' || (g % 30000) || ' - - ' || case k
                  when 'accepted' then 'Accepted publickey for root from 10.1.0.9 port 22 ssh2: ED25519-CERT ID portal-user' || p || '-ab'
                  when 'failed' then 'Failed publickey for root from 10.1.0.9 port 22 ssh2: ED25519-CERT ID portal-user' || p || '-ab'
                  else 'Connection closed by 10.1.0.9 port 22 [preauth]' end
             from (select g, now() - (g % ($3 * 86400)) * interval '1 second' as t,
                          1 + g % $4 as h, g / 7 % $5 as p,
                          case g / 3 % 4 when 0 then 'accepted' when 1 then 'failed'
                            when 2 then 'connection_closed' else 'disconnected' end as k
                   from generate_series($1::bigint, $2::bigint - 1) g) s",
        )
        .bind(from)
        .bind(to)
        .bind(DAYS)
        .bind(HOSTS)
        .bind(PEOPLE)
        .execute(db)
        .await?;
        eprintln!("stored {to} events");
        from = to;
    }
    // Ingest opens a session for every login; so does the fill, for the ones it made.
    sqlx::query(
        "insert into log_session
            (host_id, src_ip, src_port, login_at, received_at, failures_before)
         select e.host_id, e.src_ip, e.src_port, e.event_at, e.received_at,
            (select count(*) from log_event f
              where f.host_id = e.host_id and f.src_port = e.src_port and f.src_ip = e.src_ip
                and f.kind = 'failed' and f.event_at <= e.event_at
                and f.event_at > e.event_at - interval '10 minutes')
         from log_event e
         where e.kind = 'accepted'
         on conflict do nothing",
    )
    .execute(db)
    .await?;
    // What autovacuum does soon after a bulk load: without it, the first searches set the
    // hint bits of freshly written rows and write those pages out, which no steady state does.
    sqlx::query("vacuum (analyze) log_event, log_session")
        .execute(db)
        .await?;
    // The load left gigabytes of dirty pages, which the checkpointer would otherwise be
    // writing out during the searches; a steady state has no such backlog.
    sqlx::query("checkpoint").execute(db).await?;
    Ok(())
}

async fn timed_get(client: &reqwest::Client, url: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let answer = client.get(url).send().await?;
    anyhow::ensure!(answer.status().is_success(), "{url}: {}", answer.status());
    answer.bytes().await?;
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}

/// p50 and p99 of `samples`; the slowest few, with when they ran, go to stderr, to tell a
/// cold start from a spike.
fn percentiles(what: &str, samples: &mut [f64]) -> (f64, f64) {
    let mut slowest: Vec<(usize, f64)> = samples.iter().copied().enumerate().collect();
    slowest.sort_by(|a, b| b.1.total_cmp(&a.1));
    let slowest: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|(n, ms)| format!("#{n} {ms:.1} ms"))
        .collect();
    eprintln!("{what}: slowest {}", slowest.join(", "));
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn shell_ms(script: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    // grep answers 1 when nothing matched, which is a result, not a failure.
    let status = Command::new("sh").args(["-c", script]).status()?;
    anyhow::ensure!(status.code().is_some_and(|c| c <= 1), "{script} failed");
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}
