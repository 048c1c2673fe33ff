//! `children`: register, list (the caller's own reach), read, change, assign secretaries, and
//! decide protection (emergency access is in `emergency`). Each handler: parse → open the child (access layer) → store → view.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::pg::PgConnection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::age_assessment::{self, AgeAssessment};
use super::duplicates::{candidates, refuse_numbers_in_use, Candidate};
use super::input::ChildInput;
use super::protection::{self, ProtectionDecision};
use super::record::{as_input, changed_fields, changed_fields_of_new, merge, row_from};
use super::store::{self, ChildRow};
use super::view::{child_view, ChildView, ViewContext};
use crate::access::child::AboutChild;
use crate::access::refuse;
use crate::access::work::{on_child, ChildWork};
use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::{Actor, Principal};
use crate::clock::Moment;
use crate::db::Stop;
use crate::error::{AppError, AppResult};
use crate::http::etag::{created, required_version, tagged};
use crate::http::pagination::{PageQuery, Paged};
use crate::http::ApiJson;
use crate::policy::child::{
    list_scope, may_register_child_in, registrar_audience, Audience, ChildAction,
};
use crate::policy::Profession;
use crate::rules::Rules;
use crate::state::AppState;

/// The views of `rows` for one audience: two queries (placements, secretaries), whatever the
/// number of rows.
fn views_of(
    conn: &mut PgConnection,
    rules: &Rules,
    rows: Vec<ChildRow>,
    audience: Audience,
    at: Moment,
) -> Result<Vec<ChildView>, Stop> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut placements = store::current_placements(conn, &ids, at.today)?;
    let mut secretaries = store::secretaries_of(conn, &ids)?;
    let rules = rules.on(at.today);
    Ok(rows
        .into_iter()
        .map(|row| {
            let context = ViewContext {
                audience,
                rules,
                today: at.today,
                secretaries: Some(secretaries.remove(&row.id).unwrap_or_default()),
                placement: placements.remove(&row.id),
            };
            child_view(row, context)
        })
        .collect())
}

fn view_of(conn: &mut PgConnection, work: ChildWork) -> Result<ChildView, Stop> {
    let views = views_of(
        conn,
        &work.settings.rules,
        vec![work.child],
        work.audience,
        work.at,
    );
    Ok(views?.remove(0))
}

#[derive(Serialize)]
struct Registered {
    child: ChildView,
    /// Children with the same name and date of birth that the caller may see.
    possible_duplicates: Vec<Candidate>,
}

/// Registers a child. Same dossier or identity number: refused (409, with a `denied` event about
/// the child who has it). Same name and date of birth: registered, and the likely duplicates the
/// caller may see are listed. A secretary who registers a child carries her case.
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<ChildInput>,
) -> AppResult<HttpResponse> {
    let at = Moment::of(state.clock.as_ref());
    let rules = state.settings.rules.clone();
    let registered = state
        .db
        .audited(move |conn| {
            if !may_register_child_in(&actor, input.responsible_unit_id) {
                let event = actor.event(AuditAction::Create, EntityType::Child, None, at.now);
                let message = "only a social secretary or unit manager of the responsible unit may register a child there";
                return Err(refuse(conn, event, AppError::forbidden(message)));
            }
            if !crate::db::units::is_open(conn, input.responsible_unit_id)? {
                return Err(AppError::rule("responsible_unit_id", "is not an active unit").into());
            }
            let valid = input.validate(at.today, rules.on(at.today)).map_err(AppError::unprocessable)?;
            refuse_numbers_in_use(conn, &actor, AuditAction::Create, &valid, None, at)?;
            let (possible_duplicates, mut events) = candidates(conn, &actor, &valid, at)?;
            let id = Uuid::now_v7();
            let event = actor.event(AuditAction::Create, EntityType::Child, Some(id), at.now);
            let row = row_from(valid, id, event.id, at.now);
            store::insert(conn, &row)?;
            if let Principal::User { id: user_id, profession: Profession::SocialSecretary, .. } = actor.principal {
                store::assign_secretaries(conn, id, &[user_id], at.now, event.id)?;
            }
            events.insert(0, event.about(&row).changed(changed_fields_of_new(&row)));
            let child = views_of(conn, &rules, vec![row], registrar_audience(&actor), at)?.remove(0);
            audit::append(conn, &events)?;
            Ok(Registered { child, possible_duplicates })
        })
        .await?;
    let (location, id) = (
        format!("/api/v1/children/{}", registered.child.id),
        registered.child.id,
    );
    Ok(created(location, id, &registered))
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let (view, version) = on_child(
        &state,
        actor,
        *path,
        ChildAction::Read,
        AuditAction::Read,
        |conn, work| {
            let event = work.event(AuditAction::Read, EntityType::Child, Some(work.child.id));
            let version = work.child.version;
            let view = view_of(conn, work)?;
            audit::append(conn, &[event])?;
            Ok((view, version))
        },
    )
    .await?;
    Ok(tagged(StatusCode::OK, view.id, version, &view))
}

/// The children within the caller's reach: her caseload, her unit, or those living where she
/// works. Every child in the answer is a read of that child.
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = query.parse()?;
    let at = Moment::of(state.clock.as_ref());
    let rules = state.settings.rules.clone();
    let paged = state
        .db
        .audited(move |conn| {
            let Some((scope, audience)) = list_scope(&actor) else {
                let event = actor.event(AuditAction::List, EntityType::Child, None, at.now);
                let message = "your profession or scope gives no access to children";
                return Err(refuse(conn, event, AppError::forbidden(message)));
            };
            let rows = store::page_in(conn, scope, page, at.today)?;
            let Paged { items, next_cursor } = Paged::from_rows(rows, page, |c| c.id);
            let events: Vec<_> = items
                .iter()
                .map(|row| {
                    actor
                        .event(AuditAction::Read, EntityType::Child, Some(row.id), at.now)
                        .about(row)
                })
                .collect();
            let items = views_of(conn, &rules, items, audience, at)?;
            audit::append(conn, &events)?;
            Ok(Paged { items, next_cursor })
        })
        .await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// The child after `patch`, checked by the rules of registration; the unit moves only by the
/// unit manager's decision (anyone else: 403 and a `denied` event), and only to an open unit.
fn patched(conn: &mut PgConnection, work: &ChildWork, patch: &Value) -> Result<ChildRow, Stop> {
    let child = &work.child;
    let mut after = as_input(child);
    merge(&mut after, patch);
    let input: ChildInput = crate::http::json::parse_json(after.to_string().as_bytes())?;
    if input.responsible_unit_id != child.responsible_unit_id {
        if work.actor.profession() != Some(Profession::UnitManager) {
            let event = work
                .event(AuditAction::Update, EntityType::Child, Some(child.id))
                .changed(["responsible_unit_id"]);
            let message = "only the unit manager moves a case to another unit";
            return Err(refuse(conn, event, AppError::forbidden(message)));
        }
        if !crate::db::units::is_open(conn, input.responsible_unit_id)? {
            return Err(AppError::rule("responsible_unit_id", "is not an active unit").into());
        }
    }
    if input.protection_level < child.protection_level {
        return Err(protection::decision_required().into());
    }
    if input.date_of_birth != child.date_of_birth
        || input.date_of_birth_assessed != child.date_of_birth_assessed
    {
        return Err(age_assessment::reassessment_required().into());
    }
    let valid = input
        .validate(work.at.today, work.rules())
        .map_err(AppError::unprocessable)?;
    refuse_numbers_in_use(
        conn,
        &work.actor,
        AuditAction::Update,
        &valid,
        Some(child.id),
        work.at,
    )?;
    let mut row = row_from(valid, child.id, child.last_audit_event_id, work.at.now);
    row.created_at = child.created_at;
    row.version = child.version + 1;
    Ok(row)
}

/// Changes a child (JSON merge patch, If-Match).
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(patch): ApiJson<Value>,
) -> AppResult<HttpResponse> {
    if !patch.is_object() {
        return Err(AppError::invalid_field(
            "body",
            "must be a JSON object of the fields to change",
        ));
    }
    let expected = required_version(&req, *path)?;
    let (view, version) = on_child(
        &state,
        actor,
        *path,
        ChildAction::Update,
        AuditAction::Update,
        move |conn, mut work| {
            if work.child.version != expected {
                return Err(AppError::stale_version().into());
            }
            let mut row = patched(conn, &work, &patch)?;
            let changed = changed_fields(&as_input(&work.child), &as_input(&row));
            let event = work
                .event(AuditAction::Update, EntityType::Child, Some(row.id))
                .changed(changed);
            row.last_audit_event_id = event.id;
            if !store::update(conn, &row)? {
                return Err(AppError::stale_version().into());
            }
            // Marked with the protection the child had until this change: lifting it (never
            // done here, see `protection`) must not take the change out of the auditor's view.
            let protected = work.child.protection_level.is_protected();
            let event = event.about(&row);
            let event = event.about_child(row.id, Some(row.responsible_unit_id), protected);
            let version = row.version;
            work.child = row;
            let view = view_of(conn, work)?;
            audit::append(conn, &[event])?;
            Ok((view, version))
        },
    )
    .await?;
    Ok(tagged(StatusCode::OK, view.id, version, &view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignSecretaries {
    user_ids: Vec<Uuid>,
}

/// Sets the social secretaries assigned to a child (the unit manager's decision).
pub async fn assign_secretaries(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<AssignSecretaries>,
) -> AppResult<HttpResponse> {
    if body.user_ids.len() > 10 {
        return Err(AppError::rule("user_ids", "at most 10 secretaries"));
    }
    let (purpose, audit_action) = (ChildAction::AssignSecretaries, AuditAction::Update);
    let assigned = on_child(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, work| {
            let child = &work.child;
            let valid =
                store::secretaries_in_unit(conn, &body.user_ids, child.responsible_unit_id)?;
            if let Some(bad) = body.user_ids.iter().position(|u| !valid.contains(u)) {
                let message = "is not an active social secretary of the child's unit";
                return Err(AppError::rule(format!("user_ids[{bad}]"), message).into());
            }
            let event = work
                .event(AuditAction::Update, EntityType::Child, Some(child.id))
                .changed(["secretaries"]);
            store::assign_secretaries(conn, child.id, &valid, work.at.now, event.id)?;
            audit::append(conn, &[event])?;
            Ok(valid)
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "user_ids": assigned })))
}

/// Decides a child's protected identity (lowers, lifts or raises it): the unit manager's
/// decision, with a reason and a decision reference. The answer is the child as now shown.
pub async fn decide_protection(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<ProtectionDecision>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::DecideProtection, AuditAction::ChangeProtection);
    let (view, version) = on_child(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, mut work| {
            let (row, event) = protection::decide(conn, &work, &input)?;
            let version = row.version;
            work.child = row;
            let view = view_of(conn, work)?;
            audit::append(conn, &[event])?;
            Ok((view, version))
        },
    )
    .await?;
    Ok(tagged(StatusCode::OK, view.id, version, &view))
}

/// Revises a child's date of birth (an age re-assessment), with a reason and a decision
/// reference. The answer is the child as now shown, and what the change did to her placements.
pub async fn reassess_age(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(input): ApiJson<AgeAssessment>,
) -> AppResult<HttpResponse> {
    let (purpose, audit_action) = (ChildAction::ReassessAge, AuditAction::ReassessAge);
    let (view, consequences, version) = on_child(
        &state,
        actor,
        *path,
        purpose,
        audit_action,
        move |conn, mut work| {
            let (row, events, consequences) = age_assessment::decide(conn, &work, &input)?;
            let version = row.version;
            work.child = row;
            let view = view_of(conn, work)?;
            audit::append(conn, &events)?;
            Ok((view, consequences, version))
        },
    )
    .await?;
    let body = json!({ "child": view, "consequences": consequences });
    Ok(tagged(StatusCode::OK, view.id, version, &body))
}
