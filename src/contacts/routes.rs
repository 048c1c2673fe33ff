//! `contact-schedules` and `visits`: what contact with a child is due, and what happened. Each
//! handler: parse → open the child (access layer) → checks and store → view.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::pg::PgConnection;
use uuid::Uuid;

use super::input::{
    reason, tolerance, visit_texts, Correction, NewSchedule, NewVisit, ScheduleChange,
};
use super::store::{self, ScheduleRow, VisitRow};
use super::view::{schedule_view, visit_view, ScheduleContext, ScheduleView, VisitView};
use crate::access::child::{self as child_access, person_may, OpenChild};
use crate::access::work::{on_child, ChildWork};
use crate::audit::{self, AuditAction, AuditEvent, EntityType};
use crate::auth::actor::Actor;
use crate::clock::Moment;
use crate::db::placement_days::covers;
use crate::db::schema::{child_secretaries, placements};
use crate::db::Stop;
use crate::domain::contact::Responsible;
use crate::error::{AppError, AppResult, ConflictKind, FieldError, Rule};
use crate::http::etag::{created, required_version, tagged};
use crate::http::pagination::{PageQuery, Paged};
use crate::http::ApiJson;
use crate::policy::child::{sees_visit_notes, Audience, ChildAction};
use crate::state::AppState;

/// The views of `rows`, all of one child: two queries (last contacts, homes), whatever their
/// number.
fn schedule_views(
    conn: &mut PgConnection,
    work: &ChildWork,
    rows: Vec<ScheduleRow>,
) -> Result<Vec<ScheduleView>, Stop> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let last = store::last_contacts(conn, &ids)?;
    let placement_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.placement_id).collect();
    let homes = store::homes_of(conn, &placement_ids)?;
    let show_home =
        !work.child.protection_level.is_protected() || work.audience.sees_protected_fields();
    Ok(rows
        .into_iter()
        .map(|row| {
            let context = ScheduleContext {
                last_contact_on: last.get(&row.id).copied(),
                facility_id: row
                    .placement_id
                    .and_then(|p| homes.get(&p).copied())
                    .filter(|_| show_home),
                show_reason: work.audience != Audience::System,
                today: work.at.today,
            };
            schedule_view(row, context)
        })
        .collect())
}

pub async fn list_schedules(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = query.parse()?;
    let paged = on_child(
        &state,
        actor,
        *path,
        ChildAction::ReadContacts,
        AuditAction::Read,
        move |conn, work| {
            let rows = store::schedules_of(conn, work.child.id, page)?;
            let Paged { items, next_cursor } = Paged::from_rows(rows, page, |r| r.id);
            let events: Vec<AuditEvent> = items
                .iter()
                .map(|r| work.event(AuditAction::Read, EntityType::ContactSchedule, Some(r.id)))
                .collect();
            let items = schedule_views(conn, &work, items)?;
            audit::append(conn, &events)?;
            Ok(Paged { items, next_cursor })
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// The placement covering `day` for the child, whose home's staff then keep a schedule.
fn placement_on(
    conn: &mut PgConnection,
    child_id: Uuid,
    day: chrono::NaiveDate,
) -> Result<Option<Uuid>, Stop> {
    use diesel::prelude::*;
    Ok(placements::table
        .filter(placements::child_id.eq(child_id))
        .filter(covers(day))
        .select(placements::id)
        .first(conn)
        .optional()?)
}

/// Whether `user_id` is one of the child's assigned secretaries.
fn is_secretary_of(conn: &mut PgConnection, child_id: Uuid, user_id: Uuid) -> Result<bool, Stop> {
    use diesel::prelude::*;
    Ok(diesel::select(diesel::dsl::exists(
        child_secretaries::table
            .filter(child_secretaries::child_id.eq(child_id))
            .filter(child_secretaries::user_id.eq(user_id)),
    ))
    .get_result(conn)?)
}

/// A schedule of this child's own, with its checks: who keeps it, its dates, a reason.
fn new_schedule(
    conn: &mut PgConnection,
    work: &ChildWork,
    input: NewSchedule,
    event_id: Uuid,
) -> Result<ScheduleRow, Stop> {
    let mut errors = Vec::new();
    let change_reason = reason("reason", &input.reason, &mut errors);
    let tolerance_days = tolerance(input.tolerance_days, &mut errors);
    if input.end_date.is_some_and(|end| end < input.start_date) {
        errors.push(FieldError::new("end_date", "is before the start date"));
    }
    let (secretary_id, placement_id) = match input.responsible {
        Responsible::Secretary => match input.secretary_id {
            Some(id) if is_secretary_of(conn, work.child.id, id)? => (Some(id), None),
            _ => {
                errors.push(FieldError::new(
                    "secretary_id",
                    "must be one of the child's assigned secretaries",
                ));
                (None, None)
            }
        },
        Responsible::FacilityStaff => match placement_on(conn, work.child.id, input.start_date)? {
            Some(placement) => (None, Some(placement)),
            None => {
                errors.push(FieldError::new(
                    "start_date",
                    "the child lives in no home on this day",
                ));
                (None, None)
            }
        },
    };
    if !errors.is_empty() {
        return Err(AppError::unprocessable(errors).into());
    }
    Ok(ScheduleRow {
        id: Uuid::now_v7(),
        child_id: work.child.id,
        kind: input.kind,
        responsible: input.responsible,
        secretary_id,
        placement_id,
        recurrence: input.recurrence.to_string(),
        tolerance_days,
        private_conversation: input.private_conversation,
        start_date: input.start_date,
        end_date: input.end_date,
        change_reason: Some(change_reason),
        created_at: work.at.now,
        updated_at: work.at.now,
        version: 1,
        last_audit_event_id: event_id,
    })
}

/// Sets up a schedule of the child's own (beside or instead of the default ones), with a reason.
pub async fn create_schedule(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<NewSchedule>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::ManageSchedules, AuditAction::Create);
    let view = on_child(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work| {
            let id_event = work.event(AuditAction::Create, EntityType::ContactSchedule, None);
            let row = new_schedule(conn, &work, input, id_event.id)?;
            let event = AuditEvent {
                entity_id: Some(row.id),
                ..id_event
            }
            .changed(["recurrence", "tolerance_days", "responsible", "start_date"]);
            store::insert_schedule(conn, &row)?;
            let view = schedule_views(conn, &work, vec![row])?.remove(0);
            audit::append(conn, &[event])?;
            Ok(view)
        },
    )
    .await?;
    Ok(created(
        format!("/api/v1/contact-schedules/{}", view.id),
        view.id,
        &view,
    ))
}

/// Runs `work` on a schedule and its opened child, the schedule read again (locked, for a
/// write) once the child is open.
async fn on_schedule<T, F>(
    state: &AppState,
    actor: Actor,
    id: Uuid,
    action: ChildAction,
    audit_action: AuditAction,
    work: F,
) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection, ChildWork, ScheduleRow) -> Result<T, Stop> + Send + 'static,
    T: Send + 'static,
{
    let at = Moment::of(state.clock.as_ref());
    let settings = state.settings.clone();
    state
        .db
        .audited(move |conn| {
            let entity = EntityType::ContactSchedule;
            let Some(child_id) = store::find_schedule(conn, id)?.map(|s| s.child_id) else {
                return child_access::unknown(conn, &actor, action, audit_action, entity, id, at);
            };
            let OpenChild { child, audience } =
                child_access::open(conn, &actor, child_id, action, audit_action, at)?;
            let row = if action.writes() {
                store::find_schedule_for_update(conn, id)?
            } else {
                store::find_schedule(conn, id)?
            };
            let Some(row) = row else {
                return child_access::unknown(conn, &actor, action, audit_action, entity, id, at);
            };
            work(
                conn,
                ChildWork {
                    actor,
                    child,
                    audience,
                    at,
                    settings,
                },
                row,
            )
        })
        .await
}

pub async fn get_schedule(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::ReadContacts, AuditAction::Read);
    let view = on_schedule(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        |conn, work, row| {
            let event = work.event(AuditAction::Read, EntityType::ContactSchedule, Some(row.id));
            let view = schedule_views(conn, &work, vec![row])?.remove(0);
            audit::append(conn, &[event])?;
            Ok(view)
        },
    )
    .await?;
    Ok(tagged(StatusCode::OK, view.id, view.version, &view))
}

/// The schedule after `change`, with the fields it changes.
fn changed(
    conn: &mut PgConnection,
    work: &ChildWork,
    row: &ScheduleRow,
    change: ScheduleChange,
) -> Result<(ScheduleRow, Vec<&'static str>), Stop> {
    let mut errors = Vec::new();
    let mut next = row.clone();
    next.change_reason = Some(reason("reason", &change.reason, &mut errors));
    if let Some(recurrence) = change.recurrence {
        next.recurrence = recurrence.to_string();
    }
    if let Some(days) = change.tolerance_days {
        next.tolerance_days = tolerance(days, &mut errors);
    }
    next.private_conversation = change
        .private_conversation
        .unwrap_or(row.private_conversation);
    if let Some(end) = change.end_date {
        next.end_date = end;
    }
    if next.end_date.is_some_and(|end| end < next.start_date) {
        errors.push(FieldError::new("end_date", "is before the start date"));
    }
    if let Some(secretary) = change.secretary_id {
        if row.responsible != Responsible::Secretary
            || !is_secretary_of(conn, work.child.id, secretary)?
        {
            errors.push(FieldError::new(
                "secretary_id",
                "must be one of the child's assigned secretaries, on a secretary's schedule",
            ));
        }
        next.secretary_id = Some(secretary);
    }
    if !errors.is_empty() {
        return Err(AppError::unprocessable(errors).into());
    }
    let differs = [
        (next.recurrence != row.recurrence, "recurrence"),
        (next.tolerance_days != row.tolerance_days, "tolerance_days"),
        (
            next.private_conversation != row.private_conversation,
            "private_conversation",
        ),
        (next.end_date != row.end_date, "end_date"),
        (next.secretary_id != row.secretary_id, "secretary_id"),
    ];
    Ok((
        next,
        differs
            .iter()
            .filter(|(d, _)| *d)
            .map(|(_, f)| *f)
            .collect(),
    ))
}

/// Changes one child's schedule (If-Match), with a reason.
pub async fn update_schedule(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(change): ApiJson<ScheduleChange>,
) -> AppResult<HttpResponse> {
    let expected = required_version(&req, *path)?;
    let (purpose, audit_action) = (ChildAction::ManageSchedules, AuditAction::Update);
    let view = on_schedule(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work, row| {
            if row.version != expected {
                return Err(AppError::stale_version().into());
            }
            let (mut next, fields) = changed(conn, &work, &row, change)?;
            let event = work
                .event(
                    AuditAction::Update,
                    EntityType::ContactSchedule,
                    Some(row.id),
                )
                .changed(fields);
            (next.version, next.updated_at, next.last_audit_event_id) =
                (row.version + 1, work.at.now, event.id);
            if !store::change_schedule(conn, &next)? {
                return Err(AppError::stale_version().into());
            }
            let view = schedule_views(conn, &work, vec![next])?.remove(0);
            audit::append(conn, &[event])?;
            Ok(view)
        },
    )
    .await?;
    Ok(tagged(StatusCode::OK, view.id, view.version, &view))
}

fn visit_views(
    conn: &mut PgConnection,
    work: &ChildWork,
    rows: Vec<VisitRow>,
) -> Result<Vec<VisitView>, Stop> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let corrected = store::corrected(conn, &ids)?;
    let free_text = work.audience != Audience::System;
    Ok(rows
        .into_iter()
        .map(|row| {
            let notes = sees_visit_notes(&work.actor, work.audience, row.performed_by);
            let is_corrected = corrected.contains(&row.id);
            visit_view(row, notes, free_text, is_corrected)
        })
        .collect())
}

/// The child's visits, each a read of it; corrections beside what they correct.
pub async fn list_visits(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = query.parse()?;
    let paged = on_child(
        &state,
        actor,
        *path,
        ChildAction::ReadContacts,
        AuditAction::Read,
        move |conn, work| {
            let rows = store::visits_of(conn, work.child.id, page)?;
            let Paged { items, next_cursor } = Paged::from_rows(rows, page, |r| r.id);
            let events: Vec<AuditEvent> = items
                .iter()
                .map(|r| work.event(AuditAction::Read, EntityType::Visit, Some(r.id)))
                .collect();
            let items = visit_views(conn, &work, items)?;
            audit::append(conn, &events)?;
            Ok(Paged { items, next_cursor })
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// A visit of the opened child, checked: never in the future, never before her arrival, for a
/// schedule of hers.
fn new_visit(
    conn: &mut PgConnection,
    work: &ChildWork,
    visit: NewVisit,
    corrects: Option<(Uuid, String)>,
    event_id: Uuid,
) -> Result<VisitRow, Stop> {
    let mut errors = Vec::new();
    let (not_completed_reason, notes) = visit_texts(&visit, &mut errors);
    if visit.occurred_at > work.at.now {
        errors
            .push(FieldError::new("occurred_at", "is in the future").because(Rule::VisitInFuture));
    }
    let local_day = visit
        .occurred_at
        .with_timezone(&chrono_tz::Europe::Stockholm)
        .date_naive();
    if work
        .child
        .arrival_date
        .is_some_and(|arrived| local_day < arrived)
    {
        errors.push(FieldError::new(
            "occurred_at",
            "is before the child arrived",
        ));
    }
    if let Some(schedule_id) = visit.schedule_id {
        let theirs =
            store::find_schedule(conn, schedule_id)?.is_some_and(|s| s.child_id == work.child.id);
        if !theirs {
            errors.push(FieldError::new(
                "schedule_id",
                "is not one of the child's schedules",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::unprocessable(errors).into());
    }
    let performed_by = performer(conn, work, visit.performed_by)?;
    let (corrects_id, correction_reason) =
        corrects.map_or((None, None), |(id, why)| (Some(id), Some(why)));
    Ok(VisitRow {
        id: Uuid::now_v7(),
        child_id: work.child.id,
        schedule_id: visit.schedule_id,
        performed_by,
        occurred_at: visit.occurred_at,
        mode: visit.mode,
        at_placement: visit.at_placement,
        completed: visit.completed,
        not_completed_reason,
        spoke_alone: visit.spoke_alone,
        planned: visit.planned,
        interpreter_used: visit.interpreter_used,
        notes,
        corrects_id,
        correction_reason,
        created_at: work.at.now,
        last_audit_event_id: event_id,
    })
}

/// Who made the contact: the person recording it, or the person a system records it for, who
/// must be someone who may record it herself.
fn performer(conn: &mut PgConnection, work: &ChildWork, named: Option<Uuid>) -> Result<Uuid, Stop> {
    let refused =
        |why: &str| AppError::rule_of(Rule::VisitPerformerRefused, "performed_by", why).into();
    match (work.actor.user_id(), named) {
        (Some(me), None) => Ok(me),
        (Some(me), Some(named)) if named == me => Ok(me),
        (Some(_), Some(_)) => Err(refused("a person records only her own contacts")),
        (None, None) => Err(refused("a system names the person who made the contact")),
        (None, Some(named)) => {
            if person_may(conn, named, &work.child, ChildAction::RecordVisit, work.at)? {
                Ok(named)
            } else {
                Err(refused(
                    "is not someone who may record a contact with this child",
                ))
            }
        }
    }
}

/// Writes `row` as a new visit and shows it.
fn record(
    conn: &mut PgConnection,
    work: &ChildWork,
    row: VisitRow,
    mut event: AuditEvent,
) -> Result<VisitView, Stop> {
    event.entity_id = Some(row.id);
    store::insert_visit(conn, &row)?;
    let view = visit_views(conn, work, vec![row])?.remove(0);
    audit::append(conn, &[event])?;
    Ok(view)
}

/// Records a contact with the child (or an attempt). Never overwritten: see corrections.
pub async fn record_visit(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(visit): ApiJson<NewVisit>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::RecordVisit, AuditAction::Create);
    let view = on_child(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work| {
            let event = work
                .event(AuditAction::Create, EntityType::Visit, None)
                .changed(["occurred_at", "mode", "completed"]);
            let row = new_visit(conn, &work, visit, None, event.id)?;
            record(conn, &work, row, event)
        },
    )
    .await?;
    Ok(created(
        format!("/api/v1/visits/{}", view.id),
        view.id,
        &view,
    ))
}

/// Corrects a recorded visit: a new entry that points at it, with a reason. Both stay readable;
/// the latest counts. Only the latest entry can be corrected.
pub async fn correct_visit(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(correction): ApiJson<Correction>,
) -> AppResult<HttpResponse> {
    let id = *path;
    let at = Moment::of(state.clock.as_ref());
    let settings = state.settings.clone();
    let view = state
        .db
        .audited(move |conn| {
            let (work, original) = open_visit(conn, actor, id, at, settings)?;
            refuse_unless_corrector(conn, &work, &original)?;
            if store::corrected(conn, &[id])?.contains(&id) {
                let message = "this visit was corrected already; correct the latest entry";
                return Err(AppError::conflict(ConflictKind::VisitCorrected, message).into());
            }
            let mut errors = Vec::new();
            let why = reason("reason", &correction.reason, &mut errors);
            if !errors.is_empty() {
                return Err(AppError::unprocessable(errors).into());
            }
            let event = work
                .event(AuditAction::Create, EntityType::Visit, None)
                .changed(["corrects_id"])
                .purpose(why.clone());
            let row = new_visit(conn, &work, correction.visit, Some((id, why)), event.id)?;
            record(conn, &work, row, event)
        })
        .await?;
    Ok(created(
        format!("/api/v1/visits/{}", view.id),
        view.id,
        &view,
    ))
}

/// Opens the child of visit `id` for recording (a correction), and the visit.
fn open_visit(
    conn: &mut PgConnection,
    actor: Actor,
    id: Uuid,
    at: Moment,
    settings: std::sync::Arc<crate::config::Settings>,
) -> Result<(ChildWork, VisitRow), Stop> {
    let (purpose, audit_action) = (ChildAction::RecordVisit, AuditAction::Create);
    let Some(original) = store::find_visit(conn, id)? else {
        let entity = EntityType::Visit;
        return child_access::unknown(conn, &actor, purpose, audit_action, entity, id, at);
    };
    let OpenChild { child, audience } =
        child_access::open(conn, &actor, original.child_id, purpose, audit_action, at)?;
    let work = ChildWork {
        actor,
        child,
        audience,
        at,
        settings,
    };
    Ok((work, original))
}

/// A visit is corrected by whoever recorded it, or by the child's secretary or unit manager:
/// staff correct only their own.
fn refuse_unless_corrector(
    conn: &mut PgConnection,
    work: &ChildWork,
    original: &VisitRow,
) -> Result<(), Stop> {
    let own = work.actor.user_id() == Some(original.performed_by);
    if own || matches!(work.audience, Audience::Case | Audience::Management) {
        return Ok(());
    }
    let event = work.event(AuditAction::Create, EntityType::Child, Some(work.child.id));
    Err(crate::access::refuse(
        conn,
        event,
        AppError::forbidden(
            "only who recorded a visit, or the child's secretary or manager, corrects it",
        ),
    ))
}
