//! Placing a child, moving her, ending, cancelling, and recording reconsiderations. Each
//! handler: parse → open the child (access layer) → checks and store → view.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::checks::latest_end;
use super::input::{
    cancellation_reason, reference, CancelInput, EndInput, MoveInput, PlacementChange,
    PlacementInput, ReviewInput,
};
use super::opening::{finish, on_placement, views_of};
use super::placing;
use super::store::{self, NewReview, PlacementRow};
use super::view::{status, PlacementView, Status};
use crate::access::work::{on_child, ChildWork};
use crate::audit::{self, AuditAction, AuditEvent, EntityType};
use crate::auth::actor::Actor;
use crate::db::{contact_schedules, Stop};
use crate::error::{AppError, AppResult, ConflictKind, FieldError, Rule};
use crate::http::etag::{created, required_version, tagged};
use crate::http::pagination::{PageQuery, Paged};
use crate::http::ApiJson;
use crate::policy::child::ChildAction;
use crate::state::AppState;

fn placed(view: PlacementView) -> HttpResponse {
    created(format!("/api/v1/placements/{}", view.id), view.id, &view)
}

pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<PlacementInput>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::ManagePlacements, AuditAction::Create);
    let view = on_child(&state, actor, *path, purpose, audit_action, |conn, work| {
        let (row, event) = placing::place(conn, &work, input)?;
        placing::start_schedules(conn, &work, &row, event.id)?;
        finish(conn, &work, row, &[event])
    })
    .await?;
    Ok(placed(view))
}

/// Ends the current placement and starts the next in one transaction: both or neither.
pub async fn move_child(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<MoveInput>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::ManagePlacements, AuditAction::Update);
    let view = on_child(&state, actor, *path, purpose, audit_action, |conn, work| {
        let (row, events) = placing::move_child(conn, &work, input.next_placement())?;
        finish(conn, &work, row, &events)
    })
    .await?;
    Ok(placed(view))
}

pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = query.parse()?;
    let (purpose, audit_action) = (ChildAction::ReadPlacements, AuditAction::Read);
    let paged = on_child(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work| {
            let rows = store::page_of_child(conn, work.child.id, page)?;
            let Paged { items, next_cursor } = Paged::from_rows(rows, page, |r| r.id);
            let events: Vec<AuditEvent> = items
                .iter()
                .map(|r| work.event(AuditAction::Read, EntityType::Placement, Some(r.id)))
                .collect();
            let items = views_of(conn, &work, items)?;
            audit::append(conn, &events)?;
            Ok(Paged { items, next_cursor })
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(paged))
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::ReadPlacements, AuditAction::Read);
    let (view, version) = on_placement(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        |conn, work, row| {
            let event = work.event(AuditAction::Read, EntityType::Placement, Some(row.id));
            let version = row.version;
            Ok((finish(conn, &work, row, &[event])?, version))
        },
    )
    .await?;
    Ok(tagged(StatusCode::OK, view.id, version, &view))
}

fn closed() -> Stop {
    AppError::conflict(
        ConflictKind::PlacementClosed,
        "the placement has already ended or been cancelled",
    )
    .into()
}

pub async fn end(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<EndInput>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::ManagePlacements, AuditAction::Update);
    let view = on_placement(&state, actor, *path, purpose, audit_action, move |conn, work, row| {
        if row.cancelled_at.is_some() || row.end_date.is_some() {
            return Err(closed());
        }
        if input.end_date < row.start_date || input.end_date > row.planned_end {
            let message = format!("must be between the start ({}) and the planned end ({}); change the planned end first to go beyond it", row.start_date, row.planned_end);
            return Err(AppError::rule("end_date", message).into());
        }
        let event = work
            .event(AuditAction::Update, EntityType::Placement, Some(row.id))
            .changed(["end_date", "end_reason"]);
        let ended = store::end(conn, &row, input.end_date, input.end_reason, work.at.now, event.id)?
            .ok_or_else(|| Stop::from(AppError::stale_version()))?;
        // The home staff's schedule ends with the placement.
        let last_day = Some(input.end_date);
        contact_schedules::end_with_placement(conn, row.id, last_day, work.at.now, event.id)?;
        finish(conn, &work, ended, &[event])
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// A mistaken placement is cancelled, never deleted: it stays in the history with its reason.
pub async fn cancel(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<CancelInput>,
) -> AppResult<HttpResponse> {
    let reason = cancellation_reason(&input).map_err(|e| AppError::unprocessable(vec![e]))?;
    let (purpose, audit_action) = (ChildAction::ManagePlacements, AuditAction::Cancel);
    let view = on_placement(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work, row| {
            // An ended placement may still be cancelled (it was a mistake); a cancelled one not.
            if row.cancelled_at.is_some() {
                let message = "the placement is already cancelled";
                return Err(AppError::conflict(ConflictKind::PlacementClosed, message).into());
            }
            let event = work
                .event(AuditAction::Cancel, EntityType::Placement, Some(row.id))
                .changed(["cancelled_at", "cancellation_reason"])
                .purpose(reason.clone());
            let cancelled = store::cancel(conn, row.id, &reason, work.at.now, event.id)?
                .ok_or_else(|| Stop::from(AppError::stale_version()))?;
            contact_schedules::end_with_placement(conn, row.id, None, work.at.now, event.id)?;
            finish(conn, &work, cancelled, &[event])
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

fn review_errors(input: &ReviewInput, row: &PlacementRow, work: &ChildWork) -> Vec<FieldError> {
    let mut errors = Vec::new();
    reference("decision_reference", &input.decision_reference, &mut errors);
    if input.decided_on > work.at.today {
        errors.push(FieldError::new("decided_on", "is in the future"));
    }
    if input.decided_on < row.start_date {
        errors.push(FieldError::new(
            "decided_on",
            "is before the placement started",
        ));
    }
    if input.kind.decides_continued_need() && input.continued_need.is_none() {
        let message = "a reconsideration decides whether the need continues";
        errors.push(FieldError::new("continued_need", message));
    }
    errors
}

/// Records a reconsideration of continued need or a revised care plan; the next due date moves.
pub async fn review(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::RecordReview, AuditAction::Create);
    let view = on_placement(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work, row| {
            let errors = review_errors(&input, &row, &work);
            if !errors.is_empty() {
                return Err(AppError::unprocessable(errors).into());
            }
            if status(&row, work.at.today) == Status::Cancelled {
                let message = "the placement is cancelled";
                return Err(AppError::conflict(ConflictKind::PlacementClosed, message).into());
            }
            let event = work
                .event(AuditAction::Create, EntityType::Placement, Some(row.id))
                .changed([format!("review:{}", input.kind)]);
            let review = NewReview {
                placement_id: row.id,
                kind: input.kind,
                decided_on: input.decided_on,
                decision_reference: input.decision_reference.trim(),
                continued_need: input.continued_need,
            };
            store::insert_review(conn, review, work.at.now, event.id)?;
            finish(conn, &work, row, &[event])
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The new planned end and decision reference, checked; field errors otherwise.
fn new_plan(
    input: &PlacementChange,
    row: &PlacementRow,
    work: &ChildWork,
) -> Result<(chrono::NaiveDate, String), Vec<FieldError>> {
    let mut errors = Vec::new();
    let decision_reference = match input.decision_reference.as_deref() {
        Some(r) => reference("decision_reference", r, &mut errors),
        None => row.decision_reference.clone(),
    };
    let planned_end = input.planned_end.unwrap_or(row.planned_end);
    let latest = latest_end(work.child.date_of_birth, work.rules());
    if planned_end < row.start_date.max(work.at.today) {
        let message = "is in the past or before the start; end the placement instead";
        errors.push(FieldError::new("planned_end", message));
    } else if planned_end > latest {
        let message =
            format!("a placement ends no later than {latest}, the day before the age limit");
        errors.push(FieldError::new("planned_end", message).because(Rule::AgeRule));
    }
    if errors.is_empty() {
        Ok((planned_end, decision_reference))
    } else {
        Err(errors)
    }
}

/// Changes a running placement's planned end (a new decision: extend, or shorten) and its
/// decision reference, with If-Match. Extending needs a free place on every added day.
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<PlacementChange>,
) -> AppResult<HttpResponse> {
    let expected = required_version(&req, *path)?;
    let (purpose, audit_action) = (ChildAction::ManagePlacements, AuditAction::Update);
    let view = on_placement(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work, row| {
            if row.version != expected {
                return Err(AppError::stale_version().into());
            }
            if row.cancelled_at.is_some() || row.end_date.is_some() {
                return Err(closed());
            }
            let (planned_end, decision_reference) =
                new_plan(&input, &row, &work).map_err(AppError::unprocessable)?;
            if planned_end > row.planned_end {
                placing::hold_added_days(conn, &row, planned_end)?;
            }
            let mut changed = Vec::new();
            if planned_end != row.planned_end {
                changed.push("planned_end");
            }
            if decision_reference != row.decision_reference {
                changed.push("decision_reference");
            }
            let event = work
                .event(AuditAction::Update, EntityType::Placement, Some(row.id))
                .changed(changed);
            let now = work.at.now;
            let updated = store::change_plan(
                conn,
                row.id,
                expected,
                planned_end,
                &decision_reference,
                now,
                event.id,
            )?
            .ok_or_else(|| Stop::from(AppError::stale_version()))?;
            finish(conn, &work, updated, &[event])
        },
    )
    .await?;
    let version = expected + 1;
    Ok(tagged(StatusCode::OK, view.id, version, &view))
}
