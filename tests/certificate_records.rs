//! Certificate records written in groups: requests that finish signing together share one
//! statement and commit, and a record the database refuses withholds only its own
//! certificate, never its neighbours'.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use ssh_key::{HashAlg, PublicKey};

use crate::support::keys::KeyPair;
use crate::support::{Answer, AppOptions, Client, TestApp};

/// Every statement that records certificates is counted by its size in `record_group`, and
/// takes 200 ms, so that requests finishing meanwhile wait and are grouped; a record of the
/// key with fingerprint `refused` fails, as a full disk would for it alone.
async fn app_counting_groups(refused: &str) -> TestApp {
    let app = TestApp::with(AppOptions {
        max_certificates_per_minute: 0,
        ..AppOptions::default()
    })
    .await;
    for statement in [
        "create table record_group (records bigint not null)".to_owned(),
        "create function count_group() returns trigger language plpgsql as
         $$ begin
              insert into record_group select count(*) from done where state = 'issued';
              perform pg_sleep(0.2);
              return null;
            end $$"
            .to_owned(),
        "create trigger count_group after update on certificate
         referencing new table as done for each statement execute function count_group()"
            .to_owned(),
        format!(
            "create function refuse_one() returns trigger language plpgsql as
             $$ begin
                  if new.state = 'issued' and new.key_fingerprint = '{refused}' then
                    raise exception 'disk full';
                  end if;
                  return new;
                end $$"
        ),
        "create trigger refuse_one before update on certificate
         for each row execute function refuse_one()"
            .to_owned(),
    ] {
        sqlx::query(&statement).execute(&app.db).await.unwrap();
    }
    app
}

fn fingerprint(key: &KeyPair) -> String {
    PublicKey::from_openssh(&key.public)
        .unwrap()
        .fingerprint(HashAlg::Sha256)
        .to_string()
}

/// Two requests that keep both record writers busy, then `rest` at once while they wait.
async fn wave(alice: &Arc<Client>, rest: &[&KeyPair]) -> Vec<Answer> {
    let issue = |key: &KeyPair| {
        let (alice, public) = (Arc::clone(alice), key.public.clone());
        tokio::spawn(async move { alice.issue(&public, Some(&["root"]), Some(60)).await })
    };
    let blockers: Vec<KeyPair> = (0..2).map(|_| KeyPair::ed25519()).collect();
    let mut requests: Vec<_> = blockers.iter().map(issue).collect();
    tokio::time::sleep(Duration::from_millis(60)).await;
    requests.extend(rest.iter().map(|key| issue(key)));
    let mut answers = Vec::new();
    for request in requests {
        answers.push(request.await.unwrap());
    }
    answers
}

#[tokio::test]
async fn records_finishing_together_share_a_commit_and_a_refused_one_withholds_only_its_own() {
    let refused_key = KeyPair::ed25519();
    let app = app_counting_groups(&fingerprint(&refused_key)).await;
    let alice = Arc::new(app.client());
    alice.sign_in_as("alice").await;

    // All well: ten certificates, some of them recorded in one statement.
    let keys: Vec<KeyPair> = (0..8).map(|_| KeyPair::ed25519()).collect();
    let answers = wave(&alice, &keys.iter().collect::<Vec<_>>()).await;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    }
    let (recorded, largest): (i64, i64) =
        sqlx::query_as("select sum(records)::bigint, max(records) from record_group")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(recorded, 10);
    assert!(largest > 1, "records that waited were written together");

    // One record among those waiting is refused: the group is written again one by one.
    let keys: Vec<KeyPair> = (0..7).map(|_| KeyPair::ed25519()).collect();
    let mut rest: Vec<&KeyPair> = keys.iter().collect();
    rest.insert(3, &refused_key);
    let answers = wave(&alice, &rest).await;
    let mut serials = std::collections::BTreeSet::new();
    for (n, answer) in answers.iter().enumerate() {
        if n == 2 + 3 {
            assert!(answer.status.is_server_error(), "{}", answer.body);
            assert!(answer.body.get("certificate").is_none(), "{}", answer.body);
        } else {
            assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
            assert!(serials.insert(answer.body["serial"].as_str().unwrap().to_owned()));
        }
    }
    assert_eq!(
        app.count("select count(*) from certificate where state = 'issued'")
            .await,
        19
    );
    let trace: (String, Option<String>) =
        sqlx::query_as("select state, serial::text from certificate where key_fingerprint = $1")
            .bind(fingerprint(&refused_key))
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(trace, ("signing".to_owned(), None), "only the intent stays");
    let audit = app.audit("certificate_issue").await;
    let successes = audit.iter().filter(|a| a.outcome == "success").count();
    let failures = audit.iter().filter(|a| a.outcome == "failure").count();
    assert_eq!((successes, failures), (19, 1), "{audit:?}");
}
