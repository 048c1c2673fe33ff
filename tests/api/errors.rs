use crate::helpers::{problem, spawn_app};

#[actix_web::test]
async fn an_unknown_route_is_a_problem_not_found() {
    let app = spawn_app().await;
    let body = problem(app.get("/api/v1/no-such-thing").await, 404).await;
    assert_eq!(body["type"], "urn:trygg:problem:not-found");
}

#[actix_web::test]
async fn a_wrong_method_on_a_known_route_is_a_problem() {
    let app = spawn_app().await;
    let response = app
        .client
        .delete(app.url("/health/live"))
        .send()
        .await
        .unwrap();
    let body = problem(response, 405).await;
    assert_eq!(body["type"], "urn:trygg:problem:method-not-allowed");
}

#[actix_web::test]
async fn every_answer_carries_a_request_id_and_a_plain_incoming_one_is_kept() {
    let app = spawn_app().await;
    let generated = app.get("/health/live").await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());

    let kept = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "caller-trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "caller-trace-42");

    // Anything that could carry more than an id is replaced, not echoed.
    let replaced = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "Anna Andersson 20100101-1234")
        .send()
        .await
        .unwrap();
    assert_ne!(
        replaced.headers()["x-request-id"],
        "Anna Andersson 20100101-1234"
    );
}

#[actix_web::test]
async fn malformed_json_is_a_400_problem() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header("content-type", "application/json")
        .body(r#"{"grant_type": "password", "username": "#)
        .send()
        .await
        .unwrap();
    let body = problem(response, 400).await;
    assert_eq!(body["type"], "urn:trygg:problem:malformed-request");
}

#[actix_web::test]
async fn a_field_of_the_wrong_type_is_named_in_the_problem() {
    let app = spawn_app().await;
    let response = app
        .token_request(
            serde_json::json!({"grant_type": "password", "username": 42, "password": "x"}),
        )
        .await;
    let body = problem(response, 400).await;
    assert_eq!(body["errors"][0]["field"], "username");
}

#[actix_web::test]
async fn an_oversized_body_is_a_413_problem() {
    let app = spawn_app().await;
    let huge = format!(
        r#"{{"grant_type":"password","username":"{}"}}"#,
        "a".repeat(200_000)
    );
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    let body = problem(response, 413).await;
    assert_eq!(body["type"], "urn:trygg:problem:payload-too-large");
}

#[actix_web::test]
async fn a_wrong_content_type_is_a_415_problem() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header("content-type", "text/plain")
        .body("grant_type=password")
        .send()
        .await
        .unwrap();
    let body = problem(response, 415).await;
    assert_eq!(body["type"], "urn:trygg:problem:unsupported-media-type");
}

#[actix_web::test]
async fn no_answer_may_be_cached_or_sniffed() {
    let app = spawn_app().await;
    for path in ["/health/live", "/api/v1/no-such-thing"] {
        let response = app.get(path).await;
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
}
