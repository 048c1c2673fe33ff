//! Liveness (the process answers) and readiness (it can reach the database), with the audit
//! sequencer's backlog: counts only, nothing about anyone.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::AppResult;
use crate::state::AppState;

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub async fn ready(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let backlog = state
        .db
        .run(|conn| Ok(crate::audit::sequencer::backlog(conn)?))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ready", "audit_backlog": backlog })))
}
