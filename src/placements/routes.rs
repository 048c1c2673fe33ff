//! Placing a child, moving her, ending, cancelling, and recording reconsiderations.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use serde::Deserialize;
use uuid::Uuid;

use super::checks::{self, latest_end, NewPlacementFacts};
use super::store::{self, PlacementRow};
use super::view::{placement_view, status, PlacementView, Reviews, Status};
use super::{EndReason, ReviewKind};
use crate::audit::{self, AuditAction, AuditEvent, EntityType};
use crate::auth::actor::Actor;
use crate::children::access::{self, AboutChild};
use crate::children::store::{self as children_store, ChildRow};
use crate::db::schema::{placement_reviews, placements};
use crate::db::Stop;
use crate::error::{AppError, AppResult, ConflictKind, FieldError, Rule};
use crate::http::etag::etag;
use crate::http::ApiJson;
use crate::policy::child::{Audience, ChildAction};
use crate::policy::Profession;
use crate::state::AppState;

/// What every placement handler works with.
#[derive(Clone, Copy)]
struct Moment {
    today: NaiveDate,
    now: DateTime<Utc>,
}

fn moment(state: &AppState) -> Moment {
    Moment {
        today: state.clock.today(),
        now: state.clock.now(),
    }
}

fn view(
    conn: &mut PgConnection,
    state: &AppState,
    row: PlacementRow,
    audience: Audience,
    child: &ChildRow,
    at: Moment,
) -> AppResult<PlacementView> {
    let reviews = Reviews {
        last_reconsideration: store::latest_review(conn, row.id, ReviewKind::Reconsideration)?,
        last_care_plan: store::latest_review(conn, row.id, ReviewKind::CarePlan)?,
        continued_care: store::latest_decision(conn, row.id, ReviewKind::ContinuedCareAfter18)?,
    };
    let show_facility = !child.protection_level.is_protected() || audience.sees_protected_fields();
    Ok(placement_view(
        row,
        reviews,
        state.settings.rules.on(at.today),
        child.date_of_birth,
        at.today,
        show_facility,
        audience != Audience::System,
    ))
}

/// Database refusals, should a race get past the Rust checks: `AppError` maps each by the
/// constraint that refused (the trigger names one per rule) to the problem the check answers.
fn placement_db_error(error: DieselError) -> AppError {
    error.into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementInput {
    facility_id: Uuid,
    start_date: NaiveDate,
    planned_end: Option<NaiveDate>,
    legal_basis: String,
    decision_reference: String,
    special_reasons: Option<String>,
    deviation_reason: Option<String>,
}

fn reference(field: &str, value: &str, errors: &mut Vec<FieldError>) -> String {
    let value = value.trim();
    if !(1..=100).contains(&value.chars().count()) {
        errors.push(FieldError::new(field, "1 to 100 characters"));
    }
    value.to_owned()
}

fn reason(field: &str, value: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > 2000 {
        errors.push(FieldError::new(field, "at most 2000 characters"));
    }
    Some(value.to_owned())
}

/// Creates a placement after every rule: checked facts, no overlap, a free place every day.
/// The child's row is locked by the caller; the facility's row is locked here.
fn place(
    conn: &mut PgConnection,
    state: &AppState,
    actor: &Actor,
    child: &ChildRow,
    input: PlacementInput,
    at: Moment,
    event_id: Uuid,
) -> Result<PlacementRow, Stop> {
    let rules = state.settings.rules.on(input.start_date);
    let mut errors = Vec::new();
    let legal_basis = reference("legal_basis", &input.legal_basis, &mut errors);
    let decision_reference =
        reference("decision_reference", &input.decision_reference, &mut errors);
    let special_reasons = reason(
        "special_reasons",
        input.special_reasons.as_deref(),
        &mut errors,
    );
    let deviation_reason = reason(
        "deviation_reason",
        input.deviation_reason.as_deref(),
        &mut errors,
    );
    let Some(facility) = store::lock_facility(conn, input.facility_id)?.filter(|f| f.active) else {
        return Err(Stop::from(AppError::rule(
            "facility_id",
            "no such active facility",
        )));
    };
    let history = store::of_child(conn, child.id)?;
    let first_placement = history.iter().all(|p| p.cancelled_at.is_some());
    let planned_end = input
        .planned_end
        .unwrap_or_else(|| latest_end(child.date_of_birth, rules));
    errors.extend(checks::check(
        &NewPlacementFacts {
            date_of_birth: child.date_of_birth,
            kind: facility.kind,
            start_date: input.start_date,
            planned_end,
            legal_basis: &legal_basis,
            special_reasons: special_reasons.as_deref(),
            deviation_reason: deviation_reason.as_deref(),
            first_placement,
            by_unit_manager: actor.profession() == Some(Profession::UnitManager),
        },
        rules,
    ));
    if !errors.is_empty() {
        return Err(Stop::from(AppError::unprocessable(errors)));
    }
    let overlaps = history.iter().any(|p| {
        p.cancelled_at.is_none() && p.start_date <= planned_end && input.start_date <= p.last_day()
    });
    if overlaps {
        return Err(Stop::from(AppError::conflict(
            ConflictKind::PlacementOverlap,
            "the child already has a placement on some of these days; end or move it first",
        )));
    }
    let busiest = store::busiest_day(conn, facility.id, input.start_date, planned_end, None)?;
    if busiest >= i64::from(facility.capacity) {
        return Err(Stop::from(AppError::conflict(
            ConflictKind::FacilityFull,
            format!("{} has no free place on some of these days", facility.name),
        )));
    }
    let row = PlacementRow {
        id: Uuid::now_v7(),
        child_id: child.id,
        facility_id: facility.id,
        start_date: input.start_date,
        planned_end,
        end_date: None,
        end_reason: None,
        legal_basis,
        decision_reference,
        special_reasons,
        deviation_reason,
        cancelled_at: None,
        cancellation_reason: None,
        created_at: at.now,
        updated_at: at.now,
        version: 1,
        last_audit_event_id: event_id,
    };
    diesel::insert_into(placements::table)
        .values(&row)
        .execute(conn)
        .map_err(placement_db_error)?;
    Ok(row)
}

fn created(view: PlacementView) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/placements/{}", view.id)))
        .insert_header((header::ETAG, etag(view.id, 1)))
        .json(view)
}

pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<PlacementInput>,
) -> AppResult<HttpResponse> {
    let child_id = path.into_inner();
    let at = moment(&state);
    let st = state.clone();
    let view = state
        .db
        .audited(move |conn| {
            children_store::lock(conn, child_id)?;
            let (child, audience) = access::open(
                conn,
                &actor,
                child_id,
                ChildAction::ManagePlacements,
                AuditAction::Create,
                at.today,
                at.now,
            )?;
            let event = actor.event(AuditAction::Create, EntityType::Placement, None, at.now);
            let row = place(conn, &st, &actor, &child, input, at, event.id)?;
            let event = AuditEvent {
                entity_id: Some(row.id),
                ..event
            }
            .about(&child)
            .changed([
                "facility_id",
                "start_date",
                "planned_end",
                "legal_basis",
                "decision_reference",
            ]);
            let view = view(conn, &st, row, audience, &child, at)?;
            audit::append(conn, &[event])?;
            Ok(view)
        })
        .await?;
    Ok(created(view))
}

pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let child_id = path.into_inner();
    let at = moment(&state);
    let st = state.clone();
    let views = state
        .db
        .audited(move |conn| {
            let (child, audience) = access::open(
                conn,
                &actor,
                child_id,
                ChildAction::ReadPlacements,
                AuditAction::Read,
                at.today,
                at.now,
            )?;
            let rows = store::of_child(conn, child_id)?;
            let events: Vec<AuditEvent> = rows
                .iter()
                .map(|r| {
                    actor
                        .event(AuditAction::Read, EntityType::Placement, Some(r.id), at.now)
                        .about(&child)
                })
                .collect();
            let mut views = Vec::with_capacity(rows.len());
            for row in rows {
                views.push(view(conn, &st, row, audience, &child, at)?);
            }
            audit::append(conn, &events)?;
            Ok(views)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": views, "next_cursor": null })))
}

/// Opens a placement's child for `action`. The child is locked first and the placement is read
/// again, locked, after it: what the caller checks is what she changes, not a row another
/// request changed while this one waited for the lock.
fn open_placement(
    conn: &mut PgConnection,
    actor: &Actor,
    placement_id: Uuid,
    action: ChildAction,
    audit_action: AuditAction,
    at: Moment,
) -> Result<(PlacementRow, ChildRow, Audience), Stop> {
    let unknown = |conn: &mut PgConnection| {
        access::unknown(
            conn,
            actor,
            action,
            audit_action,
            EntityType::Placement,
            placement_id,
            at.now,
        )
    };
    // Only to learn the child: a placement never changes child.
    let Some(child_id) = store::find(conn, placement_id)?.map(|row| row.child_id) else {
        return unknown(conn);
    };
    children_store::lock(conn, child_id)?;
    let (child, audience) = access::open(
        conn,
        actor,
        child_id,
        action,
        audit_action,
        at.today,
        at.now,
    )?;
    let Some(row) = store::find_for_update(conn, placement_id)? else {
        return unknown(conn);
    };
    Ok((row, child, audience))
}

/// The answer when a conditional write found the row no longer as it was read.
fn changed_meanwhile() -> Stop {
    Stop::from(AppError::stale_version())
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let at = moment(&state);
    let st = state.clone();
    let (view, version) = state
        .db
        .audited(move |conn| {
            let (row, child, audience) = open_placement(
                conn,
                &actor,
                id,
                ChildAction::ReadPlacements,
                AuditAction::Read,
                at,
            )?;
            let version = row.version;
            let event = actor
                .event(AuditAction::Read, EntityType::Placement, Some(id), at.now)
                .about(&child);
            let view = view(conn, &st, row, audience, &child, at)?;
            audit::append(conn, &[event])?;
            Ok((view, version))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(view.id, version)))
        .json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveInput {
    facility_id: Uuid,
    /// The first day in the new place; the current placement ends the day before.
    move_date: NaiveDate,
    planned_end: Option<NaiveDate>,
    legal_basis: String,
    decision_reference: String,
    special_reasons: Option<String>,
}

/// Ends the current placement and starts the next in one transaction: both or neither.
pub async fn move_child(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<MoveInput>,
) -> AppResult<HttpResponse> {
    let child_id = path.into_inner();
    let at = moment(&state);
    let st = state.clone();
    let view = state
        .db
        .audited(move |conn| {
            children_store::lock(conn, child_id)?;
            let (child, audience) = access::open(
                conn,
                &actor,
                child_id,
                ChildAction::ManagePlacements,
                AuditAction::Update,
                at.today,
                at.now,
            )?;
            let Some(day_before) = input.move_date.pred_opt() else {
                return Err(Stop::from(AppError::rule(
                    "move_date",
                    "is not a valid date",
                )));
            };
            let current = store::of_child(conn, child_id)?
                .into_iter()
                .find(|p| p.is_active_on(day_before) && p.last_day() >= input.move_date);
            let Some(current) = current else {
                return Err(Stop::from(AppError::rule(
                    "move_date",
                    "the child has no placement running into that day; create a placement instead",
                )));
            };
            if current.start_date >= input.move_date {
                return Err(Stop::from(AppError::rule(
                    "move_date",
                    "is not after the current placement's start; cancel it instead",
                )));
            }
            // Ending the current placement locks its facility (the capacity trigger) and the new
            // one is locked next; take both now, in id order, so that two crossing moves (A to
            // B, B to A) queue up instead of deadlocking.
            store::lock_facilities(conn, &[current.facility_id, input.facility_id])?;
            let end_event = actor
                .event(
                    AuditAction::Update,
                    EntityType::Placement,
                    Some(current.id),
                    at.now,
                )
                .about(&child)
                .changed(["end_date", "end_reason"]);
            let ended = diesel::update(
                placements::table
                    .find(current.id)
                    .filter(placements::version.eq(current.version))
                    .filter(placements::cancelled_at.is_null()),
            )
            .set((
                placements::end_date.eq(day_before),
                placements::end_reason.eq(EndReason::Moved),
                placements::updated_at.eq(at.now),
                placements::version.eq(placements::version + 1),
                placements::last_audit_event_id.eq(end_event.id),
            ))
            .execute(conn)
            .map_err(placement_db_error)?;
            if ended != 1 {
                return Err(changed_meanwhile());
            }
            let create_event =
                actor.event(AuditAction::Create, EntityType::Placement, None, at.now);
            let next = PlacementInput {
                facility_id: input.facility_id,
                start_date: input.move_date,
                planned_end: input.planned_end,
                legal_basis: input.legal_basis,
                decision_reference: input.decision_reference,
                special_reasons: input.special_reasons,
                deviation_reason: None,
            };
            // A refused new placement rolls back the ended one too: both or neither.
            let row = place(conn, &st, &actor, &child, next, at, create_event.id)?;
            let create_event = AuditEvent {
                entity_id: Some(row.id),
                ..create_event
            }
            .about(&child)
            .changed([
                "facility_id",
                "start_date",
                "planned_end",
                "legal_basis",
                "decision_reference",
            ]);
            let view = view(conn, &st, row, audience, &child, at)?;
            audit::append(conn, &[end_event, create_event])?;
            Ok(view)
        })
        .await?;
    Ok(created(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndInput {
    end_date: NaiveDate,
    end_reason: EndReason,
}

pub async fn end(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<EndInput>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let at = moment(&state);
    let st = state.clone();
    let view = state
        .db
        .audited(move |conn| {
            let (row, child, audience) = open_placement(conn, &actor, id, ChildAction::ManagePlacements, AuditAction::Update, at)?;
            if row.cancelled_at.is_some() || row.end_date.is_some() {
                return Err(Stop::from(AppError::conflict(ConflictKind::PlacementClosed, "the placement has already ended or been cancelled")));
            }
            if input.end_date < row.start_date || input.end_date > row.planned_end {
                return Err(Stop::from(AppError::rule("end_date", format!("must be between the start ({}) and the planned end ({}); change the planned end first to go beyond it", row.start_date, row.planned_end))));
            }
            let event = actor.event(AuditAction::Update, EntityType::Placement, Some(id), at.now).about(&child).changed(["end_date", "end_reason"]);
            let updated: PlacementRow = diesel::update(
                placements::table
                    .find(id)
                    .filter(placements::end_date.is_null())
                    .filter(placements::cancelled_at.is_null()),
            )
            .set((
                placements::end_date.eq(input.end_date),
                placements::end_reason.eq(input.end_reason),
                placements::updated_at.eq(at.now),
                placements::version.eq(placements::version + 1),
                placements::last_audit_event_id.eq(event.id),
            ))
            .returning(PlacementRow::as_returning())
            .get_result(conn)
            .optional()
            .map_err(placement_db_error)?
            .ok_or_else(changed_meanwhile)?;
            let view = view(conn, &st, updated, audience, &child, at)?;
            audit::append(conn, &[event])?;
            Ok(view)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    reason: String,
}

/// A mistaken placement is cancelled, never deleted: it stays in the history with its reason.
pub async fn cancel(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<CancelInput>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let reason = input.reason.trim().to_owned();
    if !(3..=2000).contains(&reason.chars().count()) {
        return Err(AppError::rule("reason", "say why, in 3 to 2000 characters"));
    }
    let at = moment(&state);
    let st = state.clone();
    let view = state
        .db
        .audited(move |conn| {
            let (row, child, audience) = open_placement(
                conn,
                &actor,
                id,
                ChildAction::ManagePlacements,
                AuditAction::Cancel,
                at,
            )?;
            if row.cancelled_at.is_some() {
                return Err(Stop::from(AppError::conflict(
                    ConflictKind::PlacementClosed,
                    "the placement is already cancelled",
                )));
            }
            let event = actor
                .event(AuditAction::Cancel, EntityType::Placement, Some(id), at.now)
                .about(&child)
                .changed(["cancelled_at", "cancellation_reason"])
                .purpose(reason.clone());
            // An ended placement may still be cancelled (it was a mistake); a cancelled one not.
            let updated: PlacementRow = diesel::update(
                placements::table
                    .find(id)
                    .filter(placements::cancelled_at.is_null()),
            )
            .set((
                placements::cancelled_at.eq(at.now),
                placements::cancellation_reason.eq(&reason),
                placements::updated_at.eq(at.now),
                placements::version.eq(placements::version + 1),
                placements::last_audit_event_id.eq(event.id),
            ))
            .returning(PlacementRow::as_returning())
            .get_result(conn)
            .optional()?
            .ok_or_else(changed_meanwhile)?;
            let view = view(conn, &st, updated, audience, &child, at)?;
            audit::append(conn, &[event])?;
            Ok(view)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    kind: ReviewKind,
    decided_on: NaiveDate,
    decision_reference: String,
    continued_need: Option<bool>,
}

/// Records a reconsideration of continued need or a revised care plan; the next due date moves.
pub async fn review(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let at = moment(&state);
    let st = state.clone();
    let view = state
        .db
        .audited(move |conn| {
            let (row, child, audience) = open_placement(
                conn,
                &actor,
                id,
                ChildAction::RecordReview,
                AuditAction::Create,
                at,
            )?;
            let mut errors = Vec::new();
            let decision_reference =
                reference("decision_reference", &input.decision_reference, &mut errors);
            if input.decided_on > at.today {
                errors.push(FieldError::new("decided_on", "is in the future"));
            }
            if input.decided_on < row.start_date {
                errors.push(FieldError::new(
                    "decided_on",
                    "is before the placement started",
                ));
            }
            if matches!(
                input.kind,
                ReviewKind::Reconsideration | ReviewKind::ContinuedCareAfter18
            ) && input.continued_need.is_none()
            {
                errors.push(FieldError::new(
                    "continued_need",
                    "a reconsideration decides whether the need continues",
                ));
            }
            if !errors.is_empty() {
                return Err(Stop::from(AppError::unprocessable(errors)));
            }
            if status(&row, at.today) == Status::Cancelled {
                return Err(Stop::from(AppError::conflict(
                    ConflictKind::PlacementClosed,
                    "the placement is cancelled",
                )));
            }
            let review_id = Uuid::now_v7();
            let event = actor
                .event(AuditAction::Create, EntityType::Placement, Some(id), at.now)
                .about(&child)
                .changed([format!("review:{}", input.kind)]);
            diesel::insert_into(placement_reviews::table)
                .values((
                    placement_reviews::id.eq(review_id),
                    placement_reviews::placement_id.eq(id),
                    placement_reviews::kind.eq(input.kind),
                    placement_reviews::decided_on.eq(input.decided_on),
                    placement_reviews::decision_reference.eq(decision_reference),
                    placement_reviews::continued_need.eq(input.continued_need),
                    placement_reviews::created_at.eq(at.now),
                    placement_reviews::last_audit_event_id.eq(event.id),
                ))
                .execute(conn)?;
            let view = view(conn, &st, row, audience, &child, at)?;
            audit::append(conn, &[event])?;
            Ok(view)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementChange {
    planned_end: Option<NaiveDate>,
    decision_reference: Option<String>,
}

/// Changes a running placement's planned end (a new decision: extend, or shorten) and its
/// decision reference, with If-Match. Extending needs a free place on every added day.
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    req: actix_web::HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<PlacementChange>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let expected = crate::http::etag::required_version(&req, id)?;
    let at = moment(&state);
    let st = state.clone();
    let (view, version) = state
        .db
        .audited(move |conn| {
            let (row, child, audience) = open_placement(
                conn,
                &actor,
                id,
                ChildAction::ManagePlacements,
                AuditAction::Update,
                at,
            )?;
            if row.version != expected {
                return Err(AppError::stale_version().into());
            }
            if row.cancelled_at.is_some() || row.end_date.is_some() {
                return Err(AppError::conflict(
                    ConflictKind::PlacementClosed,
                    "the placement has already ended or been cancelled",
                )
                .into());
            }
            let mut errors = Vec::new();
            let decision_reference = input
                .decision_reference
                .as_deref()
                .map(|r| reference("decision_reference", r, &mut errors))
                .unwrap_or_else(|| row.decision_reference.clone());
            let planned_end = input.planned_end.unwrap_or(row.planned_end);
            let latest = latest_end(child.date_of_birth, st.settings.rules.on(at.today));
            if planned_end < row.start_date.max(at.today) {
                errors.push(FieldError::new(
                    "planned_end",
                    "is in the past or before the start; end the placement instead",
                ));
            } else if planned_end > latest {
                errors.push(
                    FieldError::new(
                        "planned_end",
                        format!(
                            "a placement ends no later than {latest}, the day before the age limit"
                        ),
                    )
                    .because(Rule::AgeRule),
                );
            }
            if !errors.is_empty() {
                return Err(AppError::unprocessable(errors).into());
            }
            if planned_end > row.planned_end {
                let facility = store::lock_facility(conn, row.facility_id)?
                    .ok_or_else(|| AppError::internal("a placement's facility is missing"))?;
                let added_from = row.planned_end.succ_opt().unwrap_or(planned_end);
                let busiest =
                    store::busiest_day(conn, facility.id, added_from, planned_end, Some(id))?;
                if busiest >= i64::from(facility.capacity) {
                    return Err(AppError::conflict(
                        ConflictKind::FacilityFull,
                        format!(
                            "{} has no free place on some of the added days",
                            facility.name
                        ),
                    )
                    .into());
                }
            }
            let mut changed = Vec::new();
            if planned_end != row.planned_end {
                changed.push("planned_end");
            }
            if decision_reference != row.decision_reference {
                changed.push("decision_reference");
            }
            let event = actor
                .event(AuditAction::Update, EntityType::Placement, Some(id), at.now)
                .about(&child)
                .changed(changed);
            let updated: PlacementRow = diesel::update(
                placements::table
                    .find(id)
                    .filter(placements::version.eq(expected))
                    .filter(placements::end_date.is_null())
                    .filter(placements::cancelled_at.is_null()),
            )
            .set((
                placements::planned_end.eq(planned_end),
                placements::decision_reference.eq(&decision_reference),
                placements::updated_at.eq(at.now),
                placements::version.eq(placements::version + 1),
                placements::last_audit_event_id.eq(event.id),
            ))
            .returning(PlacementRow::as_returning())
            .get_result(conn)
            .optional()
            .map_err(placement_db_error)?
            .ok_or_else(changed_meanwhile)?;
            let version = updated.version;
            let view = view(conn, &st, updated, audience, &child, at)?;
            audit::append(conn, &[event])?;
            Ok((view, version))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(view.id, version)))
        .json(view))
}
