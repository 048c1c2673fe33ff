//! A client system that retries a request creates nothing twice, and a retry never shows data
//! again without the access checks of a fresh read.

use diesel::prelude::*;
use serde_json::{json, Value};
use trygg::db::schema::{audit_events, children, idempotency_keys};
use trygg::policy::Profession;

use crate::children::{child_body, office};
use crate::helpers::{problem, spawn_app, TestApp};

fn stored_keys(app: &TestApp) -> i64 {
    idempotency_keys::table
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap()
}

#[actix_web::test]
async fn a_retried_registration_creates_one_child_and_points_at_it_again() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let send = |body: Value, key: &'static str| {
        let request = app
            .client
            .post(app.url("/api/v1/children"))
            .bearer_auth(&north.secretary_session.access_token)
            .header("idempotency-key", key)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    let body = child_body(north.unit, "Ali", "2010-05-20");
    let first = send(body.clone(), "retry-1").await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotency-replayed").is_none());
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    let etag = first.headers()["etag"].clone();
    let child_id = location.rsplit('/').next().unwrap().to_owned();

    // Only the outcome is kept, never the answer's body.
    let bodies: Vec<Option<Vec<u8>>> = idempotency_keys::table
        .select(idempotency_keys::body)
        .load(&mut app.db.superuser())
        .unwrap();
    assert_eq!(bodies, vec![None]);

    let again = send(body.clone(), "retry-1").await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    assert_eq!(again.headers()["location"], location.as_str());
    assert_eq!(again.headers()["etag"], etag);
    assert_eq!(again.headers()["content-type"], "application/json");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, json!({"replayed": true, "location": location}));

    let count: i64 = children::table
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    assert_eq!(count, 1);

    // The replay is a read by the caller, with her role and unit.
    let (role, unit, entity): (Option<String>, Option<uuid::Uuid>, Option<uuid::Uuid>) =
        audit_events::table
            .filter(audit_events::entity_type.eq("replayed_response"))
            .select((
                audit_events::actor_role,
                audit_events::actor_unit_id,
                audit_events::entity_id,
            ))
            .first(&mut app.db.superuser())
            .unwrap();
    assert_eq!(role.as_deref(), Some("social_secretary"));
    assert_eq!(unit, Some(north.unit));
    assert_eq!(entity.map(|id| id.to_string()), Some(child_id.clone()));

    // The current state is read where the replay points, with every check applied.
    let current = app.as_user(&north.secretary_session).get(&location).await;
    assert_eq!(current.status(), 200);
    let current: Value = current.json().await.unwrap();
    assert_eq!(current["id"], child_id.as_str());

    let mut other = body.clone();
    other["given_name"] = json!("Reza");
    let reused = problem(send(other, "retry-1").await, 422).await;
    assert_eq!(reused["errors"][0]["field"], "Idempotency-Key");

    // The same key from another person is her own.
    let colleague = app.create_user(Profession::SocialSecretary, Some(north.unit));
    let session = app.login(&colleague).await;
    let mut hers = body.clone();
    hers["given_name"] = json!("Omid");
    let response = app
        .client
        .post(app.url("/api/v1/children"))
        .bearer_auth(&session.access_token)
        .header("idempotency-key", "retry-1")
        .json(&hers)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert!(response.headers().get("idempotency-replayed").is_none());
}

#[actix_web::test]
async fn a_retry_after_logging_out_is_not_answered_from_the_store() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let session = &north.secretary_session;
    let send = || {
        app.client
            .post(app.url("/api/v1/children"))
            .bearer_auth(&session.access_token)
            .header("idempotency-key", "retry-1")
            .json(&child_body(north.unit, "Ali", "2010-05-20"))
            .send()
    };
    assert_eq!(send().await.unwrap().status(), 201);
    assert_eq!(stored_keys(&app), 1);

    let revoke = app
        .as_user(session)
        .post("/api/v1/auth/revoke", json!({}))
        .await;
    assert_eq!(revoke.status(), 204);

    // The token is still unexpired, but its session has ended.
    let again = send().await.unwrap();
    assert!(again.headers().get("idempotency-replayed").is_none());
    problem(again, 401).await;
    let replays: i64 = audit_events::table
        .filter(audit_events::entity_type.eq("replayed_response"))
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    assert_eq!(replays, 0);
}

#[actix_web::test]
async fn routes_that_hand_out_secrets_keep_nothing() {
    let app = spawn_app().await;
    let admin = app.system_admin_session().await;
    let register = |path: &'static str, client_id: &'static str| {
        app.client
            .post(app.url(path))
            .bearer_auth(&admin.access_token)
            .header("idempotency-key", "register-1")
            .json(
                &json!({"client_id": client_id, "name": "Register", "scopes": ["placements:read"]}),
            )
            .send()
    };
    let created = register("/api/v1/service-accounts", "register")
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert!(created["client_secret"].is_string());
    assert_eq!(stored_keys(&app), 0);

    // A retry simply runs again and meets the account it already created.
    let again = register("/api/v1/service-accounts", "register")
        .await
        .unwrap();
    assert!(again.headers().get("idempotency-replayed").is_none());
    problem(again, 409).await;
    assert_eq!(stored_keys(&app), 0);

    // Also when the path is spelt with percent-encoding.
    let encoded = register("/api/v1/service%2Daccounts", "register-2")
        .await
        .unwrap();
    assert_eq!(encoded.status(), 201);
    assert_eq!(stored_keys(&app), 0);
}

#[actix_web::test]
async fn a_malformed_idempotency_key_is_refused() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let response = app
        .client
        .post(app.url("/api/v1/children"))
        .bearer_auth(&north.secretary_session.access_token)
        .header("idempotency-key", "x".repeat(300))
        .json(&child_body(north.unit, "Ali", "2010-05-20"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(response, 400).await["errors"][0]["field"],
        "Idempotency-Key"
    );
}

/// Locks the audit log against inserts from a connection of its own, so a request that reaches
/// its audit append waits there (its work written, not committed) until the lock is let go.
fn hold_the_audit_log(app: &TestApp) -> diesel::PgConnection {
    use diesel::connection::SimpleConnection;
    let mut conn = app.db.superuser();
    conn.batch_execute("BEGIN; LOCK TABLE audit_events IN EXCLUSIVE MODE;")
        .unwrap();
    conn
}

fn children_count(app: &TestApp) -> i64 {
    children::table
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap()
}

#[actix_web::test]
async fn a_retry_after_the_database_went_away_mid_request_runs_the_work_once() {
    use crate::helpers::db_proxy::DbProxy;
    use crate::helpers::{spawn_app_with, AppOptions};
    use diesel::connection::SimpleConnection;

    let proxy = DbProxy::start();
    let app = spawn_app_with(AppOptions {
        database_url_override: Some(proxy.url()),
        ..AppOptions::default()
    })
    .await;
    let north = office(&app, "North").await;
    let body = child_body(north.unit, "Ali", "2010-05-20");
    let send = || {
        app.client
            .post(app.url("/api/v1/children"))
            .bearer_auth(&north.secretary_session.access_token)
            .header("idempotency-key", "retry-1")
            .json(&body)
            .send()
    };

    // The first request claims its key, writes the child and waits for the audit log; then
    // the database goes away under it.
    let mut chain = hold_the_audit_log(&app);
    let first = actix_web::rt::spawn(send());
    actix_web::rt::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(stored_keys(&app), 1, "the key is claimed");
    proxy.cut();
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), 503);
    chain.batch_execute("COMMIT").unwrap();
    proxy.restore();
    assert_eq!(
        children_count(&app),
        0,
        "nothing of the first request committed"
    );

    // The claim it left behind is released once the database is back, or lapses with its
    // short lease: either way the retry runs the work, once.
    app.clock.advance(chrono::Duration::minutes(2));
    let retry = send().await.unwrap();
    assert_eq!(retry.status(), 201, "the retry after the lease runs");
    assert!(retry.headers().get("idempotency-replayed").is_none());
    let location = retry.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(children_count(&app), 1);

    // From then on the key answers with the retry's outcome.
    let again = send().await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    assert_eq!(again.headers()["location"], location.as_str());
    assert_eq!(children_count(&app), 1);
}

/// A claim as a request killed with the service leaves it: no outcome, never renewed.
fn leave_a_dead_claim(app: &TestApp, owner: &str, key: &str, body: &Value) {
    use sha2::{Digest, Sha256};
    use trygg::clock::Clock;
    let mut hasher = Sha256::new();
    hasher.update("POST");
    hasher.update("/api/v1/children");
    hasher.update(serde_json::to_vec(body).unwrap());
    let fingerprint = hex::encode(hasher.finalize());
    let now = app.clock.now();
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::owner.eq(owner),
            idempotency_keys::key.eq(key),
            idempotency_keys::fingerprint.eq(fingerprint),
            idempotency_keys::created_at.eq(now),
        ))
        .execute(&mut app.db.superuser())
        .unwrap();
}

#[actix_web::test]
async fn two_retries_of_a_killed_request_take_its_lapsed_claim_over_but_only_one_runs() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let body = child_body(north.unit, "Ali", "2010-05-20");
    leave_a_dead_claim(
        &app,
        &format!("user:{}", north.secretary.id),
        "retry-1",
        &body,
    );
    let send = || {
        app.client
            .post(app.url("/api/v1/children"))
            .bearer_auth(&north.secretary_session.access_token)
            .header("idempotency-key", "retry-1")
            .json(&body)
            .send()
    };
    app.clock.advance(chrono::Duration::minutes(2));

    let (one, two) = (actix_web::rt::spawn(send()), actix_web::rt::spawn(send()));
    let answers = [one.await.unwrap().unwrap(), two.await.unwrap().unwrap()];
    let mut statuses = answers
        .iter()
        .map(|r| {
            (
                r.status().as_u16(),
                r.headers().contains_key("idempotency-replayed"),
            )
        })
        .collect::<Vec<_>>();
    statuses.sort();
    // One runs the work; the other is told it is running, or (if it came later) replayed.
    assert!(
        statuses == [(201, false), (409, false)] || statuses == [(201, false), (201, true)],
        "{statuses:?}"
    );
    assert_eq!(children_count(&app), 1);
}

/// Leaves the key's row as a request killed between its commit and storing its answer leaves
/// it (the work's transaction marked it; no outcome; a lapsed lease), so a retry has only the
/// work's own mark to go by.
fn lose_the_answer(app: &TestApp, key: &str) {
    let lost = diesel::sql_query(
        "UPDATE idempotency_keys SET status = NULL, headers = NULL, \
         claimed_until = created_at - interval '1 second' WHERE key = $1",
    )
    .bind::<diesel::sql_types::Text, _>(key)
    .execute(&mut app.db.superuser())
    .unwrap();
    assert_eq!(lost, 1, "the key {key} was stored");
}

/// Events of work done (not reads, not replays): what a second run of the work would add to.
fn changes(app: &TestApp) -> i64 {
    audit_events::table
        .filter(audit_events::action.ne_all(["read", "list"]))
        .filter(audit_events::entity_type.ne("replayed_response"))
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap()
}

/// Sends `body` to `path` with `key`, loses its answer as a kill after the commit would, and
/// retries: the retry is answered from the work (same status, same `Location`), never runs it
/// again. Returns the first answer's body.
async fn answered_after_a_lost_answer(
    app: &TestApp,
    session: &crate::helpers::users::Session,
    path: &str,
    body: Value,
    key: &str,
) -> Value {
    let send = || {
        app.client
            .post(app.url(path))
            .bearer_auth(&session.access_token)
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let first = send().await.unwrap();
    let status = first.status();
    let location = first.headers().get("location").cloned();
    let first: Value = first.json().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {first}");
    lose_the_answer(app, key);
    let before = changes(app);

    let retry = send().await.unwrap();
    assert_eq!(retry.status(), status, "{path}: the retry's status");
    assert_eq!(retry.headers()["idempotency-replayed"], "true", "{path}");
    if let Some(location) = location {
        assert_eq!(retry.headers()["location"], location, "{path}: Location");
    }
    assert_eq!(changes(app), before, "{path}: the work ran again");
    first
}

#[actix_web::test]
async fn a_retry_after_a_kill_between_commit_and_answer_is_answered_from_the_work_for_every_post() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let secretary = &north.secretary_session;
    let manager = &north.manager_session;
    let first_home = app.arrange_facility(north.unit, "hvb", 4, &[]);
    let second_home = app.arrange_facility(north.unit, "hvb", 4, &[]);

    let registered = answered_after_a_lost_answer(
        &app,
        secretary,
        "/api/v1/children",
        child_body(north.unit, "Ali", "2010-05-20"),
        "child",
    )
    .await;
    let child = registered["child"]["id"].as_str().unwrap().to_owned();
    let placed = answered_after_a_lost_answer(
        &app,
        secretary,
        &format!("/api/v1/children/{child}/placements"),
        json!({"facility_id": first_home, "start_date": "2026-03-10", "legal_basis": "SoL2025-insats", "decision_reference": "SN-1"}),
        "placement",
    )
    .await;
    let placement = placed["id"].as_str().unwrap().to_owned();
    answered_after_a_lost_answer(
        &app,
        secretary,
        &format!("/api/v1/placements/{placement}/reviews"),
        json!({"kind": "reconsideration", "decided_on": "2026-03-10", "decision_reference": "BN-2026-52", "continued_need": true}),
        "review",
    )
    .await;
    answered_after_a_lost_answer(
        &app,
        secretary,
        &format!("/api/v1/children/{child}/contact-schedules"),
        json!({"kind": "secretary_visit", "responsible": "secretary", "secretary_id": north.secretary.id, "recurrence": "1 per month", "tolerance_days": 7, "start_date": "2026-03-01", "reason": "Needs closer follow-up"}),
        "schedule",
    )
    .await;
    let visit = answered_after_a_lost_answer(
        &app,
        secretary,
        &format!("/api/v1/children/{child}/visits"),
        json!({"occurred_at": "2026-03-09T15:00:00Z", "mode": "home_visit", "at_placement": true, "completed": true, "spoke_alone": true, "planned": true}),
        "visit",
    )
    .await;
    let visit = visit["id"].as_str().unwrap().to_owned();
    answered_after_a_lost_answer(
        &app,
        secretary,
        &format!("/api/v1/visits/{visit}/corrections"),
        json!({"occurred_at": "2026-03-09T11:00:00Z", "mode": "home_visit", "at_placement": true, "completed": true, "spoke_alone": true, "planned": true, "reason": "The visit began an hour later"}),
        "correction",
    )
    .await;
    let moved = answered_after_a_lost_answer(
        &app,
        secretary,
        &format!("/api/v1/children/{child}/moves"),
        json!({"facility_id": second_home, "move_date": "2026-04-01", "legal_basis": "SoL2025-insats", "decision_reference": "BN-2026-51"}),
        "move",
    )
    .await;
    let next = moved["id"].as_str().unwrap().to_owned();
    answered_after_a_lost_answer(
        &app,
        secretary,
        &format!("/api/v1/placements/{next}/end"),
        json!({"end_date": "2026-06-30", "end_reason": "returned_home"}),
        "end",
    )
    .await;
    answered_after_a_lost_answer(
        &app,
        manager,
        &format!("/api/v1/children/{child}/protection"),
        json!({"protection_level": "confidentiality_marking", "reason": "A threat was reported today", "decision_reference": "SN-2026-9"}),
        "protection",
    )
    .await;
    answered_after_a_lost_answer(
        &app,
        manager,
        "/api/v1/facilities",
        json!({"kind": "hvb", "name": "Björkgården", "unit_id": north.unit, "address": "Storgatan 1, 123 45 Småstad", "capacity": 5}),
        "facility",
    )
    .await;
    let second = answered_after_a_lost_answer(
        &app,
        secretary,
        "/api/v1/children",
        child_body(north.unit, "Omid", "2010-06-01"),
        "second-child",
    )
    .await;
    let second = second["child"]["id"].as_str().unwrap().to_owned();
    let placed = answered_after_a_lost_answer(
        &app,
        secretary,
        &format!("/api/v1/children/{second}/placements"),
        json!({"facility_id": first_home, "start_date": "2026-03-10", "legal_basis": "SoL2025-insats", "decision_reference": "SN-2"}),
        "second-placement",
    )
    .await;
    answered_after_a_lost_answer(
        &app,
        secretary,
        &format!(
            "/api/v1/placements/{}/cancel",
            placed["id"].as_str().unwrap()
        ),
        json!({"reason": "Registered by mistake"}),
        "cancel",
    )
    .await;
}

#[actix_web::test]
async fn a_lost_answer_is_not_recovered_while_the_request_may_still_run() {
    let app = spawn_app().await;
    let north = office(&app, "North").await;
    let body = child_body(north.unit, "Ali", "2010-05-20");
    let send = || {
        app.client
            .post(app.url("/api/v1/children"))
            .bearer_auth(&north.secretary_session.access_token)
            .header("idempotency-key", "retry-1")
            .json(&body)
            .send()
    };
    assert_eq!(send().await.unwrap().status(), 201);
    // The outcome is gone but the lease still runs: the request may yet store its answer.
    {
        use diesel::connection::SimpleConnection;
        app.db
            .superuser()
            .batch_execute("UPDATE idempotency_keys SET status = NULL, headers = NULL, claimed_until = created_at + interval '1 hour'")
            .unwrap();
    }
    assert_eq!(
        problem(send().await.unwrap(), 409).await["type"],
        "urn:trygg:problem:idempotency-in-progress"
    );
    assert_eq!(children_count(&app), 1);
}
