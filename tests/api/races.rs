//! Races made to happen, not hoped for: a test connection holds the lock the requests need,
//! waits (by asking PostgreSQL, never by the clock) until every request is queued behind it,
//! and lets go. Each of the two capacity locks, the service's and the database trigger's, is
//! proved on its own.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{sql_query, QueryableByName, RunQueryDsl};
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::audit_triggers::event;
use crate::children::{child_body, office, register, Office};
use crate::helpers::{spawn_app_with, AppOptions, TestApp};

#[derive(QueryableByName)]
struct Waiting {
    #[diesel(sql_type = Text)]
    query: String,
}

/// The statements of this database's connections that wait for a lock right now.
fn waiting(watcher: &mut PgConnection) -> Vec<String> {
    sql_query(
        "SELECT query FROM pg_stat_activity WHERE datname = current_database() \
         AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
    )
    .load::<Waiting>(watcher)
    .expect("read pg_stat_activity")
    .into_iter()
    .map(|w| w.query)
    .collect()
}

/// Waits until `done()` holds, asking again every few milliseconds; gives up after 20 s
/// with what the connections were waiting for.
async fn until(watcher: &mut PgConnection, what: &str, mut done: impl FnMut(&[String]) -> bool) {
    let start = Instant::now();
    loop {
        let now_waiting = waiting(watcher);
        if done(&now_waiting) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never saw {what}; waiting for a lock: {now_waiting:#?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The statement the service locks a facility with before it decides anything.
fn locks_the_facility(query: &str) -> bool {
    query.contains("FROM \"facilities\"") && query.contains("FOR UPDATE")
}

/// A test connection holding the facility's row lock, as a placement would.
fn hold_facility(app: &TestApp, facility: Uuid) -> PgConnection {
    let mut holder = app.db.superuser();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM facilities WHERE id = '{facility}' FOR UPDATE"
        ))
        .unwrap();
    holder
}

/// Sends `request` on its own, so the test can watch it wait.
fn send(request: reqwest::RequestBuilder) -> JoinHandle<(u16, Value)> {
    actix_web::rt::spawn(async move {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    })
}

fn placement(app: &TestApp, north: &Office, child: Uuid, home: Uuid) -> JoinHandle<(u16, Value)> {
    send(
        app.client
            .post(app.url(&format!("/api/v1/children/{child}/placements")))
            .bearer_auth(&north.secretary_session.access_token)
            .json(&json!({"facility_id": home, "start_date": "2026-03-10", "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-17"})),
    )
}

async fn children(app: &TestApp, north: &Office, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..n {
        let born = format!("2011-0{}-1{i}", 1 + i % 9);
        ids.push(
            register(
                app,
                &north.secretary_session,
                child_body(north.unit, &format!("Kid{i}"), &born),
            )
            .await,
        );
    }
    ids
}

#[derive(QueryableByName)]
struct Busiest {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The most children the home holds on any day.
fn busiest(app: &TestApp, home: Uuid) -> i64 {
    sql_query(
        "SELECT coalesce(max(n), 0) AS n FROM (SELECT count(*) AS n FROM placements p, \
         generate_series('2026-01-01'::date, '2032-12-31'::date, '1 day') d \
         WHERE p.facility_id = $1 AND p.cancelled_at IS NULL AND p.period @> d::date GROUP BY d) x",
    )
    .bind::<diesel::sql_types::Uuid, _>(home)
    .get_result::<Busiest>(&mut app.db.superuser())
    .unwrap()
    .n
}

async fn statuses(handles: Vec<JoinHandle<(u16, Value)>>) -> Vec<u16> {
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.unwrap().0);
    }
    statuses.sort_unstable();
    statuses
}

/// Six secretaries' requests for the last three places of a home queue up behind the home's
/// lock, each before it has counted anything; let go, exactly three get a place.
#[actix_web::test]
async fn placements_into_the_last_places_queue_on_the_homes_lock_before_they_count() {
    let app = spawn_app_with(AppOptions {
        pool_size: Some(8),
        ..AppOptions::concurrent(6)
    })
    .await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 3, &[]);
    let kids = children(&app, &north, 6).await;
    let mut watcher = app.db.superuser();

    let holder = hold_facility(&app, home);
    let requests: Vec<_> = kids
        .iter()
        .map(|k| placement(&app, &north, *k, home))
        .collect();
    until(
        &mut watcher,
        "six placements waiting at the service's facility lock",
        |w| w.len() == 6 && w.iter().all(|q| locks_the_facility(q)),
    )
    .await;
    drop(holder); // Closing the connection rolls back and lets go.

    assert_eq!(statuses(requests).await, [201, 201, 201, 409, 409, 409]);
    assert_eq!(busiest(&app, home), 3);
}

/// Two writers that go straight to the database, as the service's role, each in a transaction
/// with its audit event: the second waits for the first, then counts its child and is refused.
#[actix_web::test]
async fn the_database_alone_refuses_the_second_of_two_simultaneous_placements_into_one_place() {
    let app = spawn_app_with(AppOptions::default()).await;
    let north = office(&app, "North").await;
    let home = app.arrange_facility(north.unit, "hvb", 1, &[]);
    let kids = children(&app, &north, 2).await;
    // Events are numbered without coordination, so the two meet only at the home.
    let insert = |child: Uuid| {
        let id = Uuid::now_v7();
        vec![
            "BEGIN".to_owned(),
            event(id, "placement", Some(id), Some(child)),
            format!(
                "INSERT INTO placements (id, child_id, facility_id, start_date, planned_end, \
                 legal_basis, decision_reference, created_at, updated_at, last_audit_event_id) \
                 VALUES ('{id}', '{child}', '{home}', '2026-04-01', '2026-12-31', \
                 'SoL2025-insats', 'BN-1', now(), now(), '{id}')"
            ),
        ]
    };
    let mut first = app.db.service_role();
    for statement in insert(kids[0]) {
        first.batch_execute(&statement).unwrap();
    }
    let mut second = app.db.service_role();
    let second_statements = insert(kids[1]);
    let (written, inserted) = std::sync::mpsc::channel();
    let second = std::thread::spawn(move || {
        for statement in &second_statements {
            if let Err(e) = second.batch_execute(statement) {
                let _ = written.send(());
                return Err(e.to_string());
            }
        }
        let _ = written.send(());
        second.batch_execute("COMMIT").map_err(|e| e.to_string())
    });
    let mut watcher = app.db.superuser();
    until(&mut watcher, "the second insert waiting, or done", |w| {
        w.iter().any(|q| q.contains("INSERT INTO placements")) || inserted.try_recv().is_ok()
    })
    .await;
    first.batch_execute("COMMIT").unwrap();

    let refused = second
        .join()
        .unwrap()
        .expect_err("the second placement is refused");
    assert!(refused.starts_with("capacity_exceeded:"), "{refused}");
    assert_eq!(busiest(&app, home), 1);
}

/// A unit manager lowers a home's capacity to what it holds while a secretary takes its last
/// place: whichever reaches the home's lock first wins, and the other is refused.
#[actix_web::test]
async fn lowering_the_capacity_and_taking_the_last_place_never_both_succeed() {
    let app = spawn_app_with(AppOptions {
        pool_size: Some(6),
        ..AppOptions::concurrent(2)
    })
    .await;
    let north = office(&app, "North").await;
    let kids = children(&app, &north, 4).await;
    let mut watcher = app.db.superuser();
    for (round, patch_first) in [true, false].into_iter().enumerate() {
        let home = app.arrange_facility(north.unit, "hvb", 2, &[]);
        let (living, newcomer) = (kids[2 * round], kids[2 * round + 1]);
        let first = placement(&app, &north, living, home).await.unwrap();
        assert_eq!(first.0, 201, "{}", first.1);
        let path = format!("/api/v1/facilities/{home}");
        let etag = app
            .as_user(&north.manager_session)
            .get(&path)
            .await
            .headers()["etag"]
            .to_str()
            .unwrap()
            .to_owned();
        let lower = || {
            send(
                app.client
                    .patch(app.url(&path))
                    .bearer_auth(&north.manager_session.access_token)
                    .header("if-match", etag.clone())
                    .json(&json!({"capacity": 1})),
            )
        };

        let holder = hold_facility(&app, home);
        let (patch, place) = if patch_first {
            let patch = lower();
            until(&mut watcher, "the capacity change queued", |w| w.len() == 1).await;
            (patch, placement(&app, &north, newcomer, home))
        } else {
            let place = placement(&app, &north, newcomer, home);
            until(&mut watcher, "the placement queued", |w| w.len() == 1).await;
            (lower(), place)
        };
        until(&mut watcher, "both queued", |w| w.len() == 2).await;
        drop(holder);

        let (patched, placed) = (patch.await.unwrap(), place.await.unwrap());
        let wanted = if patch_first { (200, 409) } else { (409, 201) };
        assert_eq!(
            (patched.0, placed.0),
            wanted,
            "round {round}: {} / {}",
            patched.1,
            placed.1
        );
        let capacity = if patch_first { 1 } else { 2 };
        assert_eq!(busiest(&app, home), capacity, "round {round}");
    }
}

/// A client system sends the same registration with the same Idempotency-Key eight times at
/// once, while the first is still being written: one child, one original answer, seven told
/// to wait; a later retry is the first answer again.
#[actix_web::test]
async fn eight_simultaneous_retries_of_one_registration_create_one_child() {
    let app = spawn_app_with(AppOptions::concurrent(8)).await;
    let north = office(&app, "North").await;
    let body = child_body(north.unit, "Ali", "2010-05-20");
    let request = || {
        app.client
            .post(app.url("/api/v1/children"))
            .bearer_auth(&north.secretary_session.access_token)
            .header("idempotency-key", "registration-7")
            .json(&body)
    };
    let mut watcher = app.db.superuser();
    let mut holder = app.db.superuser();
    holder
        .batch_execute("BEGIN; LOCK TABLE children IN SHARE MODE")
        .unwrap();

    let requests: Vec<_> = (0..8).map(|_| send(request())).collect();
    until(
        &mut watcher,
        "one registration writing, seven answered",
        |w| {
            w.len() == 1
                && w[0].contains("INSERT INTO \"children\"")
                && requests.iter().filter(|r| r.is_finished()).count() == 7
        },
    )
    .await;
    drop(holder);

    assert_eq!(
        statuses(requests).await,
        [201, 409, 409, 409, 409, 409, 409, 409]
    );
    let retry = request().send().await.unwrap();
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotency-replayed"], "true");
    let count: i64 = sql_query("SELECT count(*) AS n FROM children")
        .get_result::<Busiest>(&mut app.db.superuser())
        .unwrap()
        .n;
    assert_eq!(count, 1);
}
