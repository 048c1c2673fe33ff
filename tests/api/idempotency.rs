//! A client system that retries a request creates nothing twice.

use serde_json::Value;
use trygg::policy::Profession;

use crate::children::{child_body, office};
use crate::helpers::{problem, spawn_app};

#[actix_web::test]
async fn a_retried_registration_creates_one_child_and_answers_the_same() {
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
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();

    let again = send(body.clone(), "retry-1").await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    assert_eq!(again.headers()["location"], location);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);

    use diesel::prelude::*;
    let children: i64 = trygg::db::schema::children::table
        .count()
        .get_result(&mut app.db.superuser())
        .unwrap();
    assert_eq!(children, 1);

    let mut other = body.clone();
    other["given_name"] = serde_json::json!("Reza");
    let reused = problem(send(other, "retry-1").await, 422).await;
    assert_eq!(reused["errors"][0]["field"], "Idempotency-Key");

    // The same key from another person is her own.
    let colleague = app.create_user(Profession::SocialSecretary, Some(north.unit));
    let session = app.login(&colleague).await;
    let mut hers = body.clone();
    hers["given_name"] = serde_json::json!("Omid");
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
