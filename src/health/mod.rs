//! Liveness (the process answers) and readiness (it can reach the database).

use actix_web::{web, HttpResponse};
use diesel::RunQueryDsl;
use serde_json::json;

use crate::error::AppResult;
use crate::state::AppState;

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub async fn ready(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state
        .db
        .run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
}
