//! `children`: register, list (the caller's own reach), read, change, assign secretaries,
//! and emergency access.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::access::{self, AboutChild};
use super::input::{ChildInput, ValidChild};
use super::store::{self, ChildRow};
use super::view::{child_view, ChildView, ViewContext};
use crate::audit::{self, AuditAction, EntityType, Outcome};
use crate::auth::actor::{Actor, Principal};
use crate::db::schema::{
    child_secretaries, children, emergency_accesses, facility_staff, placements, units, users,
};
use crate::db::Stop;
use crate::error::{AppError, AppResult};
use crate::http::etag::{etag, required_version};
use crate::http::pagination::{PageQuery, Paged};
use crate::http::ApiJson;
use crate::policy::child::{
    decide, may_register_child_in, may_request_emergency_access, Audience, ChildAction, Decision,
};
use crate::policy::{Profession, Scope};
use crate::state::AppState;

fn view_of(
    conn: &mut PgConnection,
    state: &AppState,
    row: ChildRow,
    audience: Audience,
    today: NaiveDate,
) -> AppResult<ChildView> {
    let secretaries = Some(store::secretaries_of(conn, row.id)?);
    let placement = store::current_placement(conn, row.id, today)?;
    let rules = state.settings.rules.on(today);
    Ok(child_view(
        row,
        ViewContext {
            audience,
            rules,
            today,
            secretaries,
            placement,
        },
    ))
}

fn respond(view: ChildView, version: i32, status: actix_web::http::StatusCode) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(view.id, version)))
        .json(view)
}

#[derive(Serialize)]
struct Candidate {
    id: Uuid,
    given_name: Option<String>,
    family_name: Option<String>,
    date_of_birth: NaiveDate,
}

#[derive(Serialize)]
struct Registered {
    child: ChildView,
    /// Children with the same name and date of birth that the caller may see.
    possible_duplicates: Vec<Candidate>,
}

fn duplicate_conflict(field: &str) -> AppError {
    crate::error::duplicate_identity(field)
}

/// Refuses a dossier or personal identity number that another child already has. The answer
/// stays 409, but the attempt is a `denied` event about the child who has the number, committed
/// with the refusal: testing whether someone is a registered minor always leaves a trace.
fn refuse_duplicates(
    conn: &mut PgConnection,
    actor: &Actor,
    action: AuditAction,
    valid: &ValidChild,
    except: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), Stop> {
    let others = || {
        let mut query = children::table.select(ChildRow::as_select()).into_boxed();
        if let Some(id) = except {
            query = query.filter(children::id.ne(id));
        }
        query
    };
    let mut existing = None;
    if let Some(dossier) = &valid.dossier_number {
        existing = others()
            .filter(children::dossier_number.eq(dossier.as_str()))
            .first(conn)
            .optional()?
            .map(|child| (child, "dossier_number", "duplicate dossier number"));
    }
    if existing.is_none() {
        if let Some(pin) = &valid.personal_identity_number {
            existing = others()
                .filter(children::personal_identity_number.eq(pin.as_str()))
                .first(conn)
                .optional()?
                .map(|child| {
                    (
                        child,
                        "personal_identity_number",
                        "duplicate personal identity number",
                    )
                });
        }
    }
    let Some((existing, field, purpose)) = existing else {
        return Ok(());
    };
    let event = actor
        .event(action, EntityType::Child, Some(existing.id), now)
        .about(&existing)
        .outcome(Outcome::Denied)
        .purpose(purpose);
    audit::append(conn, &[event])?;
    Err(Stop::Refuse(duplicate_conflict(field)))
}

/// A case moves only to a unit that exists and is active.
fn check_unit(conn: &mut PgConnection, unit_id: Uuid) -> Result<(), Stop> {
    let active = diesel::select(diesel::dsl::exists(
        units::table
            .filter(units::id.eq(unit_id))
            .filter(units::active.eq(true)),
    ))
    .get_result::<bool>(conn)?;
    if active {
        Ok(())
    } else {
        Err(Stop::Abort(AppError::rule(
            "responsible_unit_id",
            "is not an active unit",
        )))
    }
}

fn row_from(valid: ValidChild, id: Uuid, event_id: Uuid, now: DateTime<Utc>) -> ChildRow {
    ChildRow {
        id,
        given_name: valid.given_name,
        family_name: valid.family_name,
        date_of_birth: valid.date_of_birth,
        date_of_birth_assessed: valid.date_of_birth_assessed,
        sex: valid.sex,
        country_of_origin: valid.country_of_origin,
        languages: valid.languages,
        interpreter_needed: valid.interpreter_needed,
        dossier_number: valid.dossier_number.map(|d| d.as_str().to_owned()),
        personal_identity_number: valid
            .personal_identity_number
            .map(|p| p.as_str().to_owned()),
        asylum_status: valid.asylum_status,
        arrival_date: valid.arrival_date,
        assigned_on: valid.assigned_on,
        guardian_name: valid.guardian_name,
        guardian_phone: valid.guardian_phone,
        guardian_appointed_on: valid.guardian_appointed_on,
        protection_level: valid.protection_level,
        responsible_unit_id: valid.responsible_unit_id,
        created_at: now,
        updated_at: now,
        version: 1,
        last_audit_event_id: event_id,
    }
}

/// A duplicate number that got past `refuse_duplicates` (a race) is refused by its unique
/// constraint, which `AppError` maps by name to `duplicate-identity`.
fn map_unique(error: DieselError) -> AppError {
    error.into()
}

/// Registers a child. Same dossier or identity number: refused (409, with a `denied` event about
/// the child who has it). Same name and date of birth: registered, and the likely duplicates the
/// caller may see are listed.
pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<ChildInput>,
) -> AppResult<HttpResponse> {
    let today = state.clock.today();
    let now = state.clock.now();
    if !may_register_child_in(&actor, input.responsible_unit_id) {
        let event = actor
            .event(AuditAction::Create, EntityType::Child, None, now)
            .outcome(Outcome::Denied);
        state
            .db
            .transaction(move |conn| audit::append(conn, &[event]))
            .await?;
        return Err(AppError::forbidden("only a social secretary or unit manager of the responsible unit may register a child there"));
    }
    let valid = input
        .validate(today, state.settings.rules.on(today))
        .map_err(AppError::unprocessable)?;
    let st = state.clone();
    let (view, candidates) = state
        .db
        .audited(move |conn| {
            refuse_duplicates(conn, &actor, AuditAction::Create, &valid, None, now)?;
            let same_name: Vec<ChildRow> = children::table
                .filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>("lower(family_name) = lower(")
                        .bind::<diesel::sql_types::Text, _>(valid.family_name.clone())
                        .sql(") AND lower(given_name) = lower(")
                        .bind::<diesel::sql_types::Text, _>(valid.given_name.clone())
                        .sql(")"),
                )
                .filter(children::date_of_birth.eq(valid.date_of_birth))
                .select(ChildRow::as_select())
                .load(conn)?;
            let id = Uuid::now_v7();
            let event = actor.event(AuditAction::Create, EntityType::Child, Some(id), now);
            let row = row_from(valid, id, event.id, now);
            diesel::insert_into(children::table)
                .values(&row)
                .execute(conn)
                .map_err(map_unique)?;
            let mut events = vec![event.about(&row).changed(changed_fields_of_new(&row))];
            if let Principal::User {
                id: user_id,
                profession: Profession::SocialSecretary,
                ..
            } = actor.principal
            {
                diesel::insert_into(child_secretaries::table)
                    .values((
                        child_secretaries::child_id.eq(id),
                        child_secretaries::user_id.eq(user_id),
                        child_secretaries::assigned_at.eq(now),
                        child_secretaries::last_audit_event_id.eq(events[0].id),
                    ))
                    .execute(conn)?;
            }
            let mut candidates = Vec::new();
            for other in same_name {
                let facts = access::facts(conn, &actor, &other, today, now)?;
                if let Decision::Allow(audience) = decide(&actor, &facts, ChildAction::Read) {
                    let withheld =
                        other.protection_level.is_protected() && !audience.sees_protected_fields();
                    events.push(
                        actor
                            .event(AuditAction::Read, EntityType::Child, Some(other.id), now)
                            .about(&other)
                            .purpose("duplicate check"),
                    );
                    candidates.push(Candidate {
                        id: other.id,
                        given_name: (!withheld).then_some(other.given_name.clone()),
                        family_name: (!withheld).then_some(other.family_name.clone()),
                        date_of_birth: other.date_of_birth,
                    });
                }
            }
            let audience = match actor.profession() {
                Some(Profession::SocialSecretary) => Audience::Case,
                _ => Audience::Management,
            };
            let view = view_of(conn, &st, row, audience, today)?;
            audit::append(conn, &events)?;
            Ok((view, candidates))
        })
        .await?;
    let location = format!("/api/v1/children/{}", view.id);
    let tag = etag(view.id, 1);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, tag))
        .json(Registered {
            child: view,
            possible_duplicates: candidates,
        }))
}

fn changed_fields_of_new(row: &ChildRow) -> Vec<&'static str> {
    let mut fields = vec![
        "given_name",
        "family_name",
        "date_of_birth",
        "date_of_birth_assessed",
        "sex",
        "languages",
        "interpreter_needed",
        "asylum_status",
        "protection_level",
        "responsible_unit_id",
    ];
    for (present, name) in [
        (row.country_of_origin.is_some(), "country_of_origin"),
        (row.dossier_number.is_some(), "dossier_number"),
        (
            row.personal_identity_number.is_some(),
            "personal_identity_number",
        ),
        (row.arrival_date.is_some(), "arrival_date"),
        (row.assigned_on.is_some(), "assigned_on"),
        (row.guardian_name.is_some(), "guardian"),
    ] {
        if present {
            fields.push(name);
        }
    }
    fields
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let today = state.clock.today();
    let now = state.clock.now();
    let st = state.clone();
    let (view, version) = state
        .db
        .audited(move |conn| {
            let (child, audience) = access::open(
                conn,
                &actor,
                id,
                ChildAction::Read,
                AuditAction::Read,
                today,
                now,
            )?;
            let version = child.version;
            let event = actor
                .event(AuditAction::Read, EntityType::Child, Some(id), now)
                .about(&child);
            let view = view_of(conn, &st, child, audience, today)?;
            audit::append(conn, &[event])?;
            Ok((view, version))
        })
        .await?;
    Ok(respond(view, version, actix_web::http::StatusCode::OK))
}

/// The children within the caller's reach: her caseload, her unit, or those living where she works.
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = query.parse()?;
    let today = state.clock.today();
    let now = state.clock.now();
    let st = state.clone();
    let paged = state
        .db
        .audited(move |conn| {
            let mut q = children::table
                .select(ChildRow::as_select())
                .order(children::id)
                .limit(page.limit + 1)
                .into_boxed();
            if let Some(after) = page.after {
                q = q.filter(children::id.gt(after));
            }
            let (q, audience) =
                match &actor.principal {
                    Principal::User {
                        id,
                        profession: Profession::SocialSecretary,
                        ..
                    } => (
                        q.filter(
                            children::id.eq_any(
                                child_secretaries::table
                                    .filter(child_secretaries::user_id.eq(*id))
                                    .select(child_secretaries::child_id),
                            ),
                        ),
                        Audience::Case,
                    ),
                    Principal::User {
                        profession: Profession::UnitManager,
                        unit_id: Some(unit),
                        ..
                    } => (
                        q.filter(children::responsible_unit_id.eq(*unit)),
                        Audience::Management,
                    ),
                    Principal::User {
                        id,
                        profession: Profession::HvbStaff | Profession::HousingStaff,
                        ..
                    } => (
                        q.filter(
                            children::id.eq_any(
                                placements::table
                                    .inner_join(facility_staff::table.on(
                                        facility_staff::facility_id.eq(placements::facility_id),
                                    ))
                                    .filter(facility_staff::user_id.eq(*id))
                                    .filter(placements::cancelled_at.is_null())
                                    .filter(placements::start_date.le(today))
                                    .filter(
                                        placements::end_date.ge(today).or(placements::end_date
                                            .is_null()
                                            .and(placements::planned_end.ge(today))),
                                    )
                                    .select(placements::child_id),
                            ),
                        ),
                        Audience::Care,
                    ),
                    Principal::Service { scopes, .. } if scopes.contains(&Scope::ChildrenRead) => (
                        q.filter(children::protection_level.eq("none")),
                        Audience::System,
                    ),
                    _ => {
                        let event = actor
                            .event(AuditAction::List, EntityType::Child, None, now)
                            .outcome(Outcome::Denied);
                        audit::append(conn, &[event])?;
                        return Err(Stop::Refuse(AppError::forbidden(
                            "your profession or scope gives no access to children",
                        )));
                    }
                };
            let rows: Vec<ChildRow> = q.load(conn)?;
            let paged = Paged::from_rows(rows, page, |c| c.id);
            // Every child that appears in the answer is a read of that child.
            let mut events = Vec::with_capacity(paged.items.len());
            let mut views = Vec::with_capacity(paged.items.len());
            for row in paged.items {
                events.push(
                    actor
                        .event(AuditAction::Read, EntityType::Child, Some(row.id), now)
                        .about(&row),
                );
                views.push(view_of(conn, &st, row, audience, today)?);
            }
            audit::append(conn, &events)?;
            Ok(Paged {
                items: views,
                next_cursor: paged.next_cursor,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(paged))
}

/// The row in the shape a client sends, so a change can be applied as a JSON merge patch and
/// checked by exactly the rules of registration.
fn as_input(row: &ChildRow) -> Value {
    json!({
        "given_name": row.given_name,
        "family_name": row.family_name,
        "date_of_birth": row.date_of_birth,
        "date_of_birth_assessed": row.date_of_birth_assessed,
        "sex": row.sex,
        "country_of_origin": row.country_of_origin,
        "languages": row.languages,
        "interpreter_needed": row.interpreter_needed,
        "dossier_number": row.dossier_number,
        "personal_identity_number": row.personal_identity_number,
        "asylum_status": row.asylum_status,
        "arrival_date": row.arrival_date,
        "assigned_on": row.assigned_on,
        "guardian": row.guardian_name.as_ref().map(|name| json!({"name": name, "phone": row.guardian_phone, "appointed_on": row.guardian_appointed_on})),
        "protection_level": row.protection_level,
        "responsible_unit_id": row.responsible_unit_id,
    })
}

/// RFC 7396: objects merge key by key, `null` removes.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// Changes a child (JSON merge patch, If-Match). Moving the case to another (active) unit is the
/// unit manager's decision: anyone else is refused (403, with a `denied` event).
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(patch): ApiJson<Value>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    if !patch.is_object() {
        return Err(AppError::invalid_field(
            "body",
            "must be a JSON object of the fields to change",
        ));
    }
    let expected = required_version(&req, id)?;
    let today = state.clock.today();
    let now = state.clock.now();
    let st = state.clone();
    let (view, version) = state
        .db
        .audited(move |conn| {
            // Two changes sent with the same ETag cannot both pass.
            store::lock(conn, id)?;
            let (child, audience) = access::open(
                conn,
                &actor,
                id,
                ChildAction::Update,
                AuditAction::Update,
                today,
                now,
            )?;
            if child.version != expected {
                return Err(Stop::from(AppError::stale_version()));
            }
            let before = as_input(&child);
            let mut after = before.clone();
            merge(&mut after, &patch);
            let input: ChildInput = crate::http::json::parse_json(after.to_string().as_bytes())?;
            if input.responsible_unit_id != child.responsible_unit_id {
                // Not a rule of the data but of authority: refused, and the attempt is logged.
                if actor.profession() != Some(Profession::UnitManager) {
                    let event = actor
                        .event(AuditAction::Update, EntityType::Child, Some(id), now)
                        .about(&child)
                        .outcome(Outcome::Denied)
                        .changed(["responsible_unit_id"]);
                    audit::append(conn, &[event])?;
                    return Err(Stop::Refuse(AppError::forbidden(
                        "only the unit manager moves a case to another unit",
                    )));
                }
                check_unit(conn, input.responsible_unit_id)?;
            }
            let valid = input
                .validate(today, st.settings.rules.on(today))
                .map_err(AppError::unprocessable)?;
            refuse_duplicates(conn, &actor, AuditAction::Update, &valid, Some(id), now)?;
            let after = as_input(&row_from(valid.clone(), id, child.last_audit_event_id, now));
            let changed: Vec<String> = before
                .as_object()
                .map(|b| {
                    b.keys()
                        .filter(|k| b.get(*k) != after.get(*k))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            let event = actor
                .event(AuditAction::Update, EntityType::Child, Some(id), now)
                .changed(changed);
            let mut row = row_from(valid, id, event.id, now);
            row.created_at = child.created_at;
            row.version = child.version + 1;
            diesel::update(children::table.find(id))
                .set(&row)
                .execute(conn)
                .map_err(map_unique)?;
            let event = event.about(&row);
            let version = row.version;
            let view = view_of(conn, &st, row, audience, today)?;
            audit::append(conn, &[event])?;
            Ok((view, version))
        })
        .await?;
    Ok(respond(view, version, actix_web::http::StatusCode::OK))
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
    let id = path.into_inner();
    if body.user_ids.len() > 10 {
        return Err(AppError::rule("user_ids", "at most 10 secretaries"));
    }
    let today = state.clock.today();
    let now = state.clock.now();
    let assigned = state
        .db
        .audited(move |conn| {
            let (child, _) = access::open(
                conn,
                &actor,
                id,
                ChildAction::AssignSecretaries,
                AuditAction::Update,
                today,
                now,
            )?;
            let valid: Vec<Uuid> = users::table
                .filter(users::id.eq_any(&body.user_ids))
                .filter(users::active.eq(true))
                .filter(users::profession.eq(Profession::SocialSecretary))
                .filter(users::unit_id.eq(child.responsible_unit_id))
                .select(users::id)
                // Held until commit, so a move of the same person cannot pass this assignment.
                .for_share()
                .load(conn)?;
            if let Some(bad) = body.user_ids.iter().position(|u| !valid.contains(u)) {
                return Err(Stop::from(AppError::rule(
                    format!("user_ids[{bad}]"),
                    "is not an active social secretary of the child's unit",
                )));
            }
            let event = actor
                .event(AuditAction::Update, EntityType::Child, Some(id), now)
                .about(&child)
                .changed(["secretaries"]);
            diesel::delete(child_secretaries::table.filter(child_secretaries::child_id.eq(id)))
                .execute(conn)?;
            for user_id in &valid {
                diesel::insert_into(child_secretaries::table)
                    .values((
                        child_secretaries::child_id.eq(id),
                        child_secretaries::user_id.eq(user_id),
                        child_secretaries::assigned_at.eq(now),
                        child_secretaries::last_audit_event_id.eq(event.id),
                    ))
                    .execute(conn)?;
            }
            audit::append(conn, &[event])?;
            Ok(valid)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "user_ids": assigned })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyRequest {
    reason: String,
}

#[derive(Serialize)]
struct EmergencyGrant {
    child_id: Uuid,
    expires_at: DateTime<Utc>,
}

/// "Break the glass": a secretary or manager opens a child outside her reach for a limited
/// time, giving a reason that the auditor sees.
pub async fn emergency_access(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<EmergencyRequest>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let now = state.clock.now();
    let reason = body.reason.trim().to_owned();
    if !(10..=2000).contains(&reason.chars().count()) {
        return Err(AppError::rule(
            "reason",
            "say why, in 10 to 2000 characters",
        ));
    }
    let Some(user_id) = actor
        .user_id()
        .filter(|_| may_request_emergency_access(&actor))
    else {
        let event = actor
            .event(
                AuditAction::EmergencyAccess,
                EntityType::Child,
                Some(id),
                now,
            )
            .outcome(Outcome::Denied);
        state
            .db
            .transaction(move |conn| audit::append(conn, &[event]))
            .await?;
        return Err(AppError::forbidden(
            "only social secretaries and unit managers may use emergency access",
        ));
    };
    let minutes = state
        .settings
        .rules
        .on(state.clock.today())
        .emergency_access_minutes;
    let expires_at = now + Duration::minutes(i64::from(minutes));
    state
        .db
        .transaction(move |conn| {
            let Some(child) = store::find(conn, id)? else {
                return Err(AppError::NotFound);
            };
            let event = actor
                .event(
                    AuditAction::EmergencyAccess,
                    EntityType::Child,
                    Some(id),
                    now,
                )
                .about(&child)
                .purpose(reason.clone());
            diesel::insert_into(emergency_accesses::table)
                .values((
                    emergency_accesses::id.eq(Uuid::now_v7()),
                    emergency_accesses::user_id.eq(user_id),
                    emergency_accesses::child_id.eq(id),
                    emergency_accesses::reason.eq(&reason),
                    emergency_accesses::granted_at.eq(now),
                    emergency_accesses::expires_at.eq(expires_at),
                    emergency_accesses::last_audit_event_id.eq(event.id),
                ))
                .execute(conn)?;
            audit::append(conn, &[event])
        })
        .await?;
    Ok(HttpResponse::Created().json(EmergencyGrant {
        child_id: id,
        expires_at,
    }))
}
