//! The age-out plan: `/children/{id}/age-out-plan` (with its goals, reviews and summary) and
//! `/age-out-goals/{id}` (a goal, its versions, its progress notes). Each handler: parse → open
//! the child (access layer) → checks and store → view.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::pg::PgConnection;
use uuid::Uuid;

use super::input::{
    bounded, participants, GoalChange, NewGoal, NewPlan, NewProgressNote, NewReview, PlanChange,
    NOTE, YOUTH_VIEW,
};
use super::opening::on_goal;
use super::store::{self, GoalRow, NoteRow, PlanRow, ReviewRow};
use super::summary::{html, summary, Summary, SummaryFacts};
use super::view::{
    dates, education_view, goal_view, note_view, plan_version_view, plan_view, version_view,
    GoalVersionView, GoalView, NoteView, PlanFacts, PlanVersionView, PlanView,
};
use crate::access::work::{on_child, ChildWork};
use crate::audit::{self, AuditAction, AuditEvent, EntityType};
use crate::auth::actor::Actor;
use crate::db::Stop;
use crate::error::{age_out_plan_exists, AppError, AppResult, FieldError};
use crate::http::etag::{created, if_match, required_version, tagged};
use crate::http::html::wants_html;
use crate::http::pagination::{PageQuery, Paged};
use crate::http::ApiJson;
use crate::policy::child::{may_note_progress, ChildAction};
use crate::state::AppState;

fn plan_path(child: Uuid) -> String {
    format!("/api/v1/children/{child}/age-out-plan")
}

/// The child's plan; 404 when she has none.
fn the_plan(conn: &mut PgConnection, work: &ChildWork) -> Result<PlanRow, Stop> {
    store::plan_of(conn, work.child.id)?.ok_or_else(|| AppError::NotFound.into())
}

fn facts(conn: &mut PgConnection, work: &ChildWork) -> Result<PlanFacts, Stop> {
    Ok(PlanFacts {
        date_of_birth: work.child.date_of_birth,
        supported_housing_from: store::supported_housing_from(conn, work.child.id)?,
        today: work.at.today,
        audience: work.audience,
    })
}

/// A read event of each of `ids`, of `entity`.
fn reads(work: &ChildWork, entity: EntityType, ids: impl Iterator<Item = Uuid>) -> Vec<AuditEvent> {
    ids.map(|id| work.event(AuditAction::Read, entity, Some(id)))
        .collect()
}

/// `notes` by goal, each goal's oldest first.
fn by_goal(notes: Vec<NoteRow>) -> HashMap<Uuid, Vec<NoteRow>> {
    let mut grouped: HashMap<Uuid, Vec<NoteRow>> = HashMap::new();
    for note in notes {
        grouped.entry(note.goal_id).or_default().push(note);
    }
    grouped
}

/// The whole plan as the caller sees it, after `event` (the plan's own), with a read of every
/// goal, note and review shown: four queries whatever their number.
fn show_plan(
    conn: &mut PgConnection,
    work: &ChildWork,
    plan: PlanRow,
    event: AuditEvent,
) -> Result<PlanView, Stop> {
    let goals = store::goals_of(conn, plan.id)?;
    let ids: Vec<Uuid> = goals.iter().map(|g| g.id).collect();
    let notes = store::notes_of(conn, &ids)?;
    let reviews = store::reviews_of(conn, plan.id)?;
    let facts = facts(conn, work)?;
    let mut events = vec![event];
    events.extend(reads(work, EntityType::AgeOutGoal, ids.iter().copied()));
    events.extend(reads(
        work,
        EntityType::AgeOutProgressNote,
        notes.iter().map(|n| n.id),
    ));
    events.extend(reads(
        work,
        EntityType::AgeOutReview,
        reviews.iter().map(|r| r.id),
    ));
    let mut notes = by_goal(notes);
    let goals = goals
        .into_iter()
        .map(|g| {
            let own = notes.remove(&g.id).unwrap_or_default();
            (g, own)
        })
        .collect();
    audit::append(conn, &events)?;
    Ok(plan_view(plan, goals, reviews, facts, work.rules()))
}

/// A goal as the caller sees it, after `event` (the goal's own), with a read of each note.
fn show_goal(
    conn: &mut PgConnection,
    work: &ChildWork,
    goal: GoalRow,
    event: AuditEvent,
) -> Result<GoalView, Stop> {
    let notes = store::notes_of(conn, &[goal.id])?;
    let mut events = vec![event];
    events.extend(reads(
        work,
        EntityType::AgeOutProgressNote,
        notes.iter().map(|n| n.id),
    ));
    audit::append(conn, &events)?;
    Ok(goal_view(goal, notes, work.at.today))
}

/// Opens the child's age-out plan: one per child.
pub async fn open_plan(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<NewPlan>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::ManagePlan, AuditAction::Create);
    let view = on_child(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work| {
            if store::plan_of(conn, work.child.id)?.is_some() {
                return Err(age_out_plan_exists().into());
            }
            let opened_on = input.opened_on.unwrap_or(work.at.today);
            if opened_on > work.at.today {
                return Err(AppError::rule("opened_on", "is in the future").into());
            }
            let opened_by = person(&work)?;
            let id = Uuid::now_v7();
            let event = work
                .event(AuditAction::Create, EntityType::AgeOutPlan, Some(id))
                .changed(["opened_on"]);
            let row = PlanRow {
                id,
                child_id: work.child.id,
                opened_on,
                opened_by,
                education_kind: None,
                education_applied_on: None,
                education_started_on: None,
                created_at: work.at.now,
                updated_at: work.at.now,
                version: 1,
                last_audit_event_id: event.id,
            };
            store::insert_plan(conn, &row)?;
            show_plan(conn, &work, row, event)
        },
    )
    .await?;
    Ok(created(plan_path(view.child_id), view.id, &view))
}

/// The plan with its goals, notes, reviews, milestones and education.
pub async fn get_plan(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::ReadPlan, AuditAction::Read);
    let view = on_child(&state, actor, *path, purpose, audit_action, |conn, work| {
        let plan = the_plan(conn, &work)?;
        let event = work.event(AuditAction::Read, EntityType::AgeOutPlan, Some(plan.id));
        show_plan(conn, &work, plan, event)
    })
    .await?;
    Ok(tagged(StatusCode::OK, view.id, view.version, &view))
}

/// The plan after `change`, with the fields it changes; the education dates checked.
fn plan_changed(
    plan: &PlanRow,
    change: PlanChange,
    today: chrono::NaiveDate,
) -> Result<(PlanRow, Vec<&'static str>), AppError> {
    let mut next = plan.clone();
    if let Some(kind) = change.education_kind {
        next.education_kind = kind;
    }
    if let Some(day) = change.education_applied_on {
        next.education_applied_on = day;
    }
    if let Some(day) = change.education_started_on {
        next.education_started_on = day;
    }
    let mut errors = Vec::new();
    if next.education_applied_on.is_some_and(|d| d > today) {
        errors.push(FieldError::new("education_applied_on", "is in the future"));
    }
    match (next.education_applied_on, next.education_started_on) {
        (None, Some(_)) => errors.push(FieldError::new(
            "education_started_on",
            "a start needs the application's date",
        )),
        (Some(applied), Some(start)) if start < applied => errors.push(FieldError::new(
            "education_started_on",
            "is before the application",
        )),
        _ => {}
    }
    if !errors.is_empty() {
        return Err(AppError::unprocessable(errors));
    }
    let differs = [
        (next.education_kind != plan.education_kind, "education_kind"),
        (
            next.education_applied_on != plan.education_applied_on,
            "education_applied_on",
        ),
        (
            next.education_started_on != plan.education_started_on,
            "education_started_on",
        ),
    ];
    let fields = differs
        .iter()
        .filter(|(d, _)| *d)
        .map(|(_, f)| *f)
        .collect();
    Ok((next, fields))
}

/// Changes the plan's education block (If-Match with the plan's ETag).
pub async fn update_plan(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(change): ApiJson<PlanChange>,
) -> AppResult<HttpResponse> {
    let tag = if_match(&req)?;
    let (purpose, audit_action) = (ChildAction::ManagePlan, AuditAction::Update);
    let view = on_child(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work| {
            let plan = the_plan(conn, &work)?;
            if tag.version_of(plan.id)? != plan.version {
                return Err(AppError::stale_version().into());
            }
            let (mut next, fields) = plan_changed(&plan, change, work.at.today)?;
            let event = work
                .event(AuditAction::Update, EntityType::AgeOutPlan, Some(plan.id))
                .changed(fields);
            (next.version, next.updated_at, next.last_audit_event_id) =
                (plan.version + 1, work.at.now, event.id);
            if !store::change_plan(conn, &next, person(&work)?)? {
                return Err(AppError::stale_version().into());
            }
            show_plan(conn, &work, next, event)
        },
    )
    .await?;
    Ok(tagged(StatusCode::OK, view.id, view.version, &view))
}

/// The user behind the caller: plans are people's work.
fn person(work: &ChildWork) -> Result<Uuid, AppError> {
    work.actor
        .user_id()
        .ok_or_else(|| AppError::forbidden("people only"))
}

/// Goal `id` of `plan` as `input` has it, checked: version 1.
fn new_goal(
    work: &ChildWork,
    plan: &PlanRow,
    input: NewGoal,
    id: Uuid,
    event_id: Uuid,
) -> Result<GoalRow, AppError> {
    let mut errors = Vec::new();
    let fields = input.fields(&mut errors);
    if !errors.is_empty() {
        return Err(AppError::unprocessable(errors));
    }
    let mut row = GoalRow {
        id,
        plan_id: plan.id,
        child_id: work.child.id,
        domain: fields.domain,
        description: String::new(),
        target_date: fields.target_date,
        responsible: fields.responsible,
        responsible_other: None,
        status: fields.status,
        dropped_reason: None,
        created_at: work.at.now,
        updated_at: work.at.now,
        version: 1,
        last_audit_event_id: event_id,
    };
    row.set(fields);
    Ok(row)
}

/// Adds a goal to the plan (version 1 of it).
pub async fn add_goal(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<NewGoal>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::ManagePlan, AuditAction::Create);
    let view = on_child(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work| {
            let plan = the_plan(conn, &work)?;
            let by = person(&work)?;
            let id = Uuid::now_v7();
            let event = work
                .event(AuditAction::Create, EntityType::AgeOutGoal, Some(id))
                .changed([
                    "domain",
                    "description",
                    "target_date",
                    "responsible",
                    "status",
                ]);
            let row = new_goal(&work, &plan, input, id, event.id)?;
            store::insert_goal(conn, &row, by)?;
            show_goal(conn, &work, row, event)
        },
    )
    .await?;
    Ok(created(
        format!("/api/v1/age-out-goals/{}", view.id),
        view.id,
        &view,
    ))
}

pub async fn get_goal(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::ReadPlan, AuditAction::Read);
    let view = on_goal(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        |conn, work, goal| {
            let event = work.event(AuditAction::Read, EntityType::AgeOutGoal, Some(goal.id));
            show_goal(conn, &work, goal, event)
        },
    )
    .await?;
    Ok(tagged(StatusCode::OK, view.id, view.version, &view))
}

/// Changes a goal (If-Match): its new version is kept beside the old ones.
pub async fn update_goal(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(change): ApiJson<GoalChange>,
) -> AppResult<HttpResponse> {
    let expected = required_version(&req, *path)?;
    let (purpose, audit_action) = (ChildAction::ManagePlan, AuditAction::Update);
    let view = on_goal(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work, goal| {
            if goal.version != expected {
                return Err(AppError::stale_version().into());
            }
            let mut errors = Vec::new();
            let before = goal.fields();
            let after = change.applied(&before, &mut errors);
            if !errors.is_empty() {
                return Err(AppError::unprocessable(errors).into());
            }
            let by = person(&work)?;
            let event = work
                .event(AuditAction::Update, EntityType::AgeOutGoal, Some(goal.id))
                .changed(before.differing(&after));
            let mut next = goal.clone();
            next.set(after);
            (next.version, next.updated_at, next.last_audit_event_id) =
                (goal.version + 1, work.at.now, event.id);
            if !store::change_goal(conn, &next, by)? {
                return Err(AppError::stale_version().into());
            }
            show_goal(conn, &work, next, event)
        },
    )
    .await?;
    Ok(tagged(StatusCode::OK, view.id, view.version, &view))
}

/// Every version of the plan's own fields, oldest first, with who changed them and when: one
/// read of the plan.
pub async fn plan_versions(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = query.parse()?;
    let (purpose, audit_action) = (ChildAction::ReadPlan, AuditAction::Read);
    let paged: Paged<PlanVersionView> = on_child(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work| {
            let plan = the_plan(conn, &work)?;
            let rows = store::plan_versions_of(conn, plan.id, page)?;
            let paged = Paged::from_rows(rows, page, |r| r.id).map(plan_version_view);
            let event = work.event(AuditAction::Read, EntityType::AgeOutPlan, Some(plan.id));
            audit::append(conn, &[event])?;
            Ok(paged)
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// Every version of a goal, oldest first, with who changed it and when: one read of the goal.
pub async fn goal_versions(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = query.parse()?;
    let (purpose, audit_action) = (ChildAction::ReadPlan, AuditAction::Read);
    let paged: Paged<GoalVersionView> = on_goal(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work, goal| {
            let rows = store::versions_of(conn, goal.id, page)?;
            let paged = Paged::from_rows(rows, page, |r| r.id).map(version_view);
            let event = work.event(AuditAction::Read, EntityType::AgeOutGoal, Some(goal.id));
            audit::append(conn, &[event])?;
            Ok(paged)
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// Note `id` on `goal` as `input` has it, checked: never dated in the future.
fn new_note(
    work: &ChildWork,
    goal: &GoalRow,
    input: NewProgressNote,
    id: Uuid,
    event_id: Uuid,
) -> Result<NoteRow, AppError> {
    let mut errors = Vec::new();
    let note = bounded("note", &input.note, NOTE, &mut errors);
    let noted_on = input.noted_on.unwrap_or(work.at.today);
    if noted_on > work.at.today {
        errors.push(FieldError::new("noted_on", "is in the future"));
    }
    if !errors.is_empty() {
        return Err(AppError::unprocessable(errors));
    }
    Ok(NoteRow {
        id,
        goal_id: goal.id,
        child_id: work.child.id,
        noted_on,
        note,
        written_by: person(work)?,
        created_at: work.at.now,
        last_audit_event_id: event_id,
    })
}

/// A dated note on how a goal goes: the secretary on any goal, the home's staff on theirs.
pub async fn add_progress_note(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<NewProgressNote>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::AddProgressNote, AuditAction::Create);
    let view: NoteView = on_goal(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work, goal| {
            if !may_note_progress(work.audience, goal.responsible) {
                let event = work.event(AuditAction::Create, EntityType::AgeOutGoal, Some(goal.id));
                let refusal = AppError::forbidden(
                    "the home's staff note progress only on the goals the home's staff see to",
                );
                return Err(crate::access::refuse(conn, event, refusal));
            }
            let id = Uuid::now_v7();
            let event = work
                .event(
                    AuditAction::Create,
                    EntityType::AgeOutProgressNote,
                    Some(id),
                )
                .changed(["noted_on", "note"]);
            let row = new_note(&work, &goal, input, id, event.id)?;
            store::insert_note(conn, &row)?;
            audit::append(conn, &[event])?;
            Ok(note_view(row))
        },
    )
    .await?;
    let location = format!("/api/v1/age-out-goals/{}", view.goal_id);
    Ok(created(location, view.id, &view))
}

/// The review's row: its checks, and each goal's status as it stands now.
fn new_review(
    work: &ChildWork,
    plan: &PlanRow,
    goals: &[GoalRow],
    input: NewReview,
    event_id: Uuid,
) -> Result<ReviewRow, AppError> {
    let mut errors = Vec::new();
    let people = participants(&input.participants, &mut errors);
    let youth_view = bounded("youth_view", &input.youth_view, YOUTH_VIEW, &mut errors);
    if input.held_on > work.at.today {
        errors.push(FieldError::new("held_on", "is in the future"));
    } else if input.held_on < plan.opened_on {
        errors.push(FieldError::new("held_on", "is before the plan was opened"));
    }
    if !errors.is_empty() {
        return Err(AppError::unprocessable(errors));
    }
    let statuses: Vec<serde_json::Value> = goals
        .iter()
        .map(|g| serde_json::json!({"goal_id": g.id, "version": g.version, "status": g.status}))
        .collect();
    Ok(ReviewRow {
        id: Uuid::now_v7(),
        plan_id: plan.id,
        child_id: work.child.id,
        held_on: input.held_on,
        participants: people,
        youth_view,
        goal_statuses: serde_json::Value::Array(statuses),
        recorded_by: person(work)?,
        created_at: work.at.now,
        last_audit_event_id: event_id,
    })
}

/// Records a review of the plan, with the goals' status at that moment.
pub async fn add_review(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<NewReview>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::ManagePlan, AuditAction::Create);
    let view = on_child(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work| {
            let plan = the_plan(conn, &work)?;
            let goals = store::goals_of(conn, plan.id)?;
            let event = work.event(AuditAction::Create, EntityType::AgeOutReview, None);
            let row = new_review(&work, &plan, &goals, input, event.id)?;
            let event = AuditEvent {
                entity_id: Some(row.id),
                ..event
            }
            .changed(["held_on", "participants", "youth_view", "goal_statuses"]);
            store::insert_review(conn, &row)?;
            audit::append(conn, &[event])?;
            Ok(super::view::review_view(row, work.audience))
        },
    )
    .await?;
    Ok(created(plan_path(*path), view.id, &view))
}

/// The plan in plain language (JSON, or HTML for `Accept: text/html`).
pub async fn get_summary(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::ReadPlan, AuditAction::Read);
    let view: Summary = on_child(&state, actor, *path, purpose, audit_action, |conn, work| {
        let plan = the_plan(conn, &work)?;
        let goals = store::goals_of(conn, plan.id)?;
        let reviews = store::reviews_of(conn, plan.id)?;
        let facts = facts(conn, &work)?;
        let (milestones, next_review) = dates(&plan, &reviews, facts, work.rules());
        let withheld =
            work.child.protection_level.is_protected() && !work.audience.sees_protected_fields();
        let summary_facts = SummaryFacts {
            given_name: (!withheld).then(|| work.child.given_name.clone()),
            identity_withheld: withheld,
            turns_18_on: milestones.dates.turns_18_on,
            last_placement_day: milestones.dates.last_placement_day,
            next_review,
            education: education_view(&plan, work.rules(), work.at.today),
        };
        let mut events = vec![work.event(AuditAction::Read, EntityType::AgeOutPlan, Some(plan.id))];
        events.extend(reads(
            &work,
            EntityType::AgeOutGoal,
            goals.iter().map(|g| g.id),
        ));
        audit::append(conn, &events)?;
        Ok(summary(&plan, &goals, summary_facts))
    })
    .await?;
    if wants_html(req.headers()) {
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html(&view)));
    }
    Ok(HttpResponse::Ok().json(view))
}
