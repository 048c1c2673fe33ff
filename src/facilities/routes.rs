//! `facilities`: HVB homes and supported housing. People in case work, administrators and
//! systems with `capacity:read` or `placements:read` read them; the manager of a facility's unit
//! opens, changes and staffs it. The address goes only to that manager and the facility's own
//! staff. Every read and write is audited, and so is every refusal.

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::input::{CreateFacility, FacilityChanges, StaffList, UpdateFacility, MAX_STAFF};
use super::store::{self, FacilityRow, ListFilter, Merged};
use super::view::{FacilityView, StaffMemberView};
use super::FacilityKind;
use crate::access::refuse;
use crate::access::work::{allowed, Work};
use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::Actor;
use crate::db::occupancy;
use crate::db::Stop;
use crate::error::{AppError, AppResult, ConflictKind, FieldError};
use crate::http::etag::{created, required_version, tagged};
use crate::http::pagination::{Page, PageQuery, Paged};
use crate::http::ApiJson;
use crate::policy::facility::{audience, may_manage};
use crate::policy::Action;
use crate::state::AppState;

fn view(actor: &Actor, row: FacilityRow, works_there: bool) -> FacilityView {
    let audience = audience(actor, row.unit_id, works_there);
    FacilityView::new(row, audience)
}

/// Refuses a change to a facility of another unit than the caller manages: 403, with its
/// `denied` event committed.
fn refuse_unless_manager(
    conn: &mut diesel::PgConnection,
    work: &Work,
    action: AuditAction,
    id: Option<Uuid>,
    unit_id: Uuid,
) -> Result<(), Stop> {
    if may_manage(&work.actor, unit_id) {
        return Ok(());
    }
    let event = work
        .actor
        .event(action, EntityType::Facility, id, work.at.now);
    let message = "only the manager of the facility's unit may do this";
    Err(refuse(conn, event, AppError::forbidden(message)))
}

/// Which of `ids` the caller is on the staff list of (people only).
fn works_at(
    conn: &mut diesel::PgConnection,
    actor: &Actor,
    ids: &[Uuid],
) -> AppResult<HashSet<Uuid>> {
    match actor.user_id() {
        Some(user_id) => store::works_at(conn, user_id, ids),
        None => Ok(HashSet::new()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
    unit_id: Option<Uuid>,
    kind: Option<FacilityKind>,
}

/// Facilities are no personal data: one `list` event records the read of a page.
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    };
    let filter = ListFilter {
        unit_id: query.unit_id,
        kind: query.kind,
        within: actor.principal.granted_units().map(<[Uuid]>::to_vec),
    };
    let (action, audit_action) = (Action::ReadFacilities, AuditAction::List);
    let paged = allowed(
        &state,
        actor,
        action,
        audit_action,
        EntityType::Facility,
        None,
        move |conn, work| {
            let page = page.parse()?;
            let paged = Paged::from_rows(store::list(conn, page, filter)?, page, |f| f.id);
            let ids: Vec<Uuid> = paged.items.iter().map(|f| f.id).collect();
            let works = works_at(conn, &work.actor, &ids)?;
            let event =
                work.actor
                    .event(AuditAction::List, EntityType::Facility, None, work.at.now);
            audit::append(conn, &[event])?;
            Ok(paged.map(|row| {
                let works_there = works.contains(&row.id);
                view(&work.actor, row, works_there)
            }))
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(paged))
}

pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<CreateFacility>,
) -> AppResult<HttpResponse> {
    let unit_id = body.unit_id;
    let parsed = body.parse();
    let (action, audit_action) = (Action::ManageFacilities, AuditAction::Create);
    let view = allowed(
        &state,
        actor,
        action,
        audit_action,
        EntityType::Facility,
        None,
        move |conn, work| {
            if !crate::db::units::is_open(conn, unit_id)? {
                let mut errors = parsed.err().unwrap_or_default();
                errors.push(FieldError::new("unit_id", "no such active unit"));
                return Err(AppError::unprocessable(errors).into());
            }
            refuse_unless_manager(conn, &work, AuditAction::Create, None, unit_id)?;
            let facility = parsed.map_err(AppError::unprocessable)?;
            let id = Uuid::now_v7();
            let mut changed = vec!["kind", "name", "unit_id", "capacity", "agreed_places"];
            if facility.address.is_some() {
                changed.push("address");
            }
            let event = work
                .actor
                .event(
                    AuditAction::Create,
                    EntityType::Facility,
                    Some(id),
                    work.at.now,
                )
                .changed(changed);
            let row = store::insert(conn, id, &facility, event.id, work.at.now)?;
            audit::append(conn, &[event])?;
            Ok(view(&work.actor, row, false))
        },
    )
    .await?;
    Ok(created(
        format!("/api/v1/facilities/{}", view.id),
        view.id,
        &view,
    ))
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = *path;
    let (action, audit_action) = (Action::ReadFacilities, AuditAction::Read);
    let (view, version) = allowed(
        &state,
        actor,
        action,
        audit_action,
        EntityType::Facility,
        Some(id),
        move |conn, work| {
            let row = store::find(conn, id)?
                .filter(|f| work.actor.principal.reaches_unit(f.unit_id))
                .ok_or(AppError::NotFound)?;
            let works_there = works_at(conn, &work.actor, &[id])?.contains(&id);
            let event = work.actor.event(
                AuditAction::Read,
                EntityType::Facility,
                Some(id),
                work.at.now,
            );
            audit::append(conn, &[event])?;
            let version = row.version;
            Ok((view(&work.actor, row, works_there), version))
        },
    )
    .await?;
    Ok(tagged(StatusCode::OK, id, version, &view))
}

/// The facility after `changes`, and the fields that differ.
fn merge(current: &FacilityRow, changes: FacilityChanges) -> (Merged, Vec<&'static str>) {
    let merged = Merged {
        name: changes.name.unwrap_or_else(|| current.name.clone()),
        address: changes.address.unwrap_or_else(|| current.address.clone()),
        capacity: changes.capacity.unwrap_or(current.capacity),
        agreed_places: changes.agreed_places.unwrap_or(current.agreed_places),
        active: changes.active.unwrap_or(current.active),
    };
    let differs = [
        (merged.name != current.name, "name"),
        (merged.address != current.address, "address"),
        (merged.capacity != current.capacity, "capacity"),
        (
            merged.agreed_places != current.agreed_places,
            "agreed_places",
        ),
        (merged.active != current.active, "active"),
    ];
    let changed = differs
        .iter()
        .filter(|(d, _)| *d)
        .map(|(_, f)| *f)
        .collect();
    (merged, changed)
}

/// Refuses a capacity below the most children placed there on any day from today on.
fn refuse_capacity_in_use(
    conn: &mut diesel::PgConnection,
    work: &Work,
    current: &FacilityRow,
    capacity: i32,
) -> Result<(), Stop> {
    if capacity >= current.capacity {
        return Ok(());
    }
    let today = work.at.today;
    let stays = occupancy::stays(conn, occupancy::Homes::One(current.id), today, None, None)?;
    let busiest = occupancy::busiest(&stays, today, None);
    if i64::from(capacity) >= busiest {
        return Ok(());
    }
    Err(AppError::Conflict {
        kind: ConflictKind::CapacityInUse,
        detail: format!(
            "{busiest} children are placed here on a day from today on; the capacity cannot be lower"
        ),
        errors: vec![FieldError::new(
            "capacity",
            format!("at least {busiest}: the children already placed here"),
        )],
    }
    .into())
}

pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<UpdateFacility>,
) -> AppResult<HttpResponse> {
    let id = *path;
    // Asked for only once the caller is known to be allowed: a refusal comes first.
    let expected_version = required_version(&req, id);
    let parsed = body.parse();
    let (action, audit_action) = (Action::ManageFacilities, AuditAction::Update);
    let (view, version) = allowed(
        &state,
        actor,
        action,
        audit_action,
        EntityType::Facility,
        Some(id),
        move |conn, work| {
            let expected_version = expected_version?;
            let current = store::find_for_update(conn, id)?.ok_or(AppError::NotFound)?;
            refuse_unless_manager(conn, &work, AuditAction::Update, Some(id), current.unit_id)?;
            if current.version != expected_version {
                return Err(AppError::stale_version().into());
            }
            let (merged, changed) = merge(&current, parsed.map_err(AppError::unprocessable)?);
            refuse_capacity_in_use(conn, &work, &current, merged.capacity)?;
            let event = work
                .actor
                .event(
                    AuditAction::Update,
                    EntityType::Facility,
                    Some(id),
                    work.at.now,
                )
                .changed(changed);
            let row = store::update(conn, id, &merged, event.id, work.at.now)?;
            audit::append(conn, &[event])?;
            let version = row.version;
            Ok((view(&work.actor, row, false), version))
        },
    )
    .await?;
    Ok(tagged(StatusCode::OK, id, version, &view))
}

pub async fn staff(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let id = *path;
    let (action, audit_action) = (Action::ReadFacilityStaff, AuditAction::Read);
    let paged = allowed(
        &state,
        actor,
        action,
        audit_action,
        EntityType::Facility,
        Some(id),
        move |conn, work| {
            let page = query.parse()?;
            store::find(conn, id)?.ok_or(AppError::NotFound)?;
            let paged = Paged::from_rows(store::staff(conn, id, page)?, page, |s| s.user_id);
            let event = work.actor.event(
                AuditAction::Read,
                EntityType::Facility,
                Some(id),
                work.at.now,
            );
            audit::append(conn, &[event])?;
            Ok(paged)
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(paged.map(StaffMemberView::from)))
}

/// Checks each person named: an active member of the profession that works at this kind of
/// facility. Faults name `user_ids[i]`.
fn check_staff(
    conn: &mut diesel::PgConnection,
    kind: FacilityKind,
    named: &[(usize, Uuid)],
) -> AppResult<()> {
    let ids: Vec<Uuid> = named.iter().map(|(_, id)| *id).collect();
    let people: HashMap<Uuid, _> = store::people(conn, &ids)?
        .into_iter()
        .map(|(id, profession, active)| (id, (profession, active)))
        .collect();
    let wanted = crate::policy::facility::staff_profession(kind);
    let errors: Vec<FieldError> = named
        .iter()
        .filter_map(|(index, id)| {
            let message = match people.get(id) {
                None => "no such user".to_owned(),
                Some((_, false)) => "is deactivated".to_owned(),
                Some((profession, true)) if *profession != wanted => {
                    format!("must be {wanted} to work at a facility of kind {kind}")
                }
                Some(_) => return None,
            };
            Some(FieldError::new(format!("user_ids[{index}]"), message))
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::unprocessable(errors))
    }
}

/// Replaces the facility's staff list with the people named.
pub async fn replace_staff(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<StaffList>,
) -> AppResult<HttpResponse> {
    let id = *path;
    let parsed = body.parse();
    let (action, audit_action) = (Action::ManageFacilities, AuditAction::Update);
    let paged = allowed(
        &state,
        actor,
        action,
        audit_action,
        EntityType::Facility,
        Some(id),
        move |conn, work| {
            // Locked, so two replacements of the same list happen one after the other.
            let facility = store::find_for_update(conn, id)?.ok_or(AppError::NotFound)?;
            refuse_unless_manager(conn, &work, AuditAction::Update, Some(id), facility.unit_id)?;
            let named = parsed.map_err(AppError::unprocessable)?;
            check_staff(conn, facility.kind, &named)?;
            let ids: Vec<Uuid> = named.iter().map(|(_, id)| *id).collect();
            let event = work.actor.event(
                AuditAction::Update,
                EntityType::Facility,
                Some(id),
                work.at.now,
            );
            let changed = store::replace_staff(conn, id, &ids, event.id)?;
            let event = event.changed(changed.then_some("staff"));
            let page = Page {
                limit: MAX_STAFF as i64,
                after: None,
            };
            let paged = Paged::from_rows(store::staff(conn, id, page)?, page, |s| s.user_id);
            audit::append(conn, &[event])?;
            Ok(paged)
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(paged.map(StaffMemberView::from)))
}
