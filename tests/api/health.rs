use crate::helpers::db_proxy::DbProxy;
use crate::helpers::{problem, spawn_app, spawn_app_with, AppOptions};

#[actix_web::test]
async fn a_running_service_is_live_and_ready() {
    let app = spawn_app().await;

    let live = app.get("/health/live").await;
    assert_eq!(live.status(), 200);
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[actix_web::test]
async fn readiness_reports_an_unreachable_database_and_recovers_without_a_restart() {
    let proxy = DbProxy::start();
    let app = spawn_app_with(AppOptions {
        database_url_override: Some(proxy.url()),
        ..AppOptions::default()
    })
    .await;
    assert_eq!(app.get("/health/ready").await.status(), 200);

    proxy.cut();
    let down = app.get("/health/ready").await;
    assert!(down.headers().contains_key("retry-after"));
    let body = problem(down, 503).await;
    assert_eq!(body["type"], "urn:trygg:problem:database-unavailable");
    // Liveness does not depend on the database: the process itself is fine.
    assert_eq!(app.get("/health/live").await.status(), 200);

    proxy.restore();
    let mut recovered = false;
    for _ in 0..20 {
        if app.get("/health/ready").await.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(
        recovered,
        "the service did not recover once the database came back"
    );
}
