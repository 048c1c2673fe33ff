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
