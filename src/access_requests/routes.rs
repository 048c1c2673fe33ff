//! `GET /api/v1/children/{id}/access-export`: everything held about one child (see the
//! module's doc for who may and why).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::input::{self, Format};
use super::store::{self, SECTIONS};
use super::view;
use crate::access::work::on_child;
use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::Actor;
use crate::error::{AppError, AppResult};
use crate::policy::child::ChildAction;
use crate::state::AppState;

/// The purpose the export's audit event states.
const PURPOSE: &str = "access request (GDPR art. 15): everything held about the child exported";

/// The export, as JSON or as a page. One `export` event about the child, with her unit and
/// protection, commits with the reads; a refusal is a `denied` event and 403 (404 for an id
/// that names no child).
pub async fn export(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let parsed = input::format(req.query_string(), req.headers());
    let (action, audit_action) = (ChildAction::ExportRecord, AuditAction::Export);
    let (format, document) = on_child(&state, actor, *path, action, audit_action, |conn, work| {
        let format = parsed?;
        let child_id = work.child.id;
        let held = store::everything(conn, child_id)?.ok_or(AppError::NotFound)?;
        // Read before the event is written: the document is the record as it stood.
        let event = work
            .event(AuditAction::Export, EntityType::Child, Some(child_id))
            .purpose(PURPOSE);
        audit::append(conn, &[event])?;
        Ok((format, view::document(child_id, work.at.now, held)))
    })
    .await?;
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::VARY, "Accept"));
    Ok(match format {
        Format::Json => response.json(document),
        Format::Html => response
            .content_type("text/html; charset=utf-8")
            .body(view::html(&document, &SECTIONS)),
    })
}
