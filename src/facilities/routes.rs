//! `facilities`: HVB homes and supported housing. People in case work, administrators and
//! systems with `capacity:read` or `placements:read` read them; the manager of a facility's unit
//! opens, changes and staffs it. The address goes only to that manager and the facility's own
//! staff. Every read and write is audited, and so is every refusal.

use std::collections::{HashMap, HashSet};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::input::{CreateFacility, StaffList, UpdateFacility, MAX_STAFF};
use super::store::{self, FacilityRow, ListFilter, Merged};
use super::view::{FacilityView, StaffMemberView};
use super::FacilityKind;
use crate::audit::{self, AuditAction, AuditEvent, EntityType, Outcome};
use crate::auth::actor::Actor;
use crate::error::{AppError, AppResult, ConflictKind, FieldError};
use crate::http::etag::{etag, required_version};
use crate::http::pagination::{Page, PageQuery, Paged};
use crate::http::ApiJson;
use crate::policy::enforce::authorize;
use crate::policy::facility::{audience, may_manage};
use crate::policy::Action;
use crate::state::AppState;

fn with_etag(row: &FacilityRow, response: &mut HttpResponseBuilder) {
    response.insert_header((header::ETAG, etag(row.id, row.version)));
}

fn view(actor: &Actor, row: FacilityRow, works_there: bool) -> FacilityView {
    let audience = audience(actor, row.unit_id, works_there);
    FacilityView::new(row, audience)
}

/// The outcome of work that first checks the caller's relation to the facility's unit. A refusal
/// commits its own `denied` event (and nothing else), then answers 403.
enum Checked<T> {
    Done(T),
    Refused,
}

impl<T> Checked<T> {
    fn answer(self) -> AppResult<T> {
        match self {
            Checked::Done(value) => Ok(value),
            Checked::Refused => Err(AppError::forbidden(
                "only the manager of the facility's unit may do this",
            )),
        }
    }
}

/// Records that `actor` was refused; call inside the transaction, then return `Refused`.
fn refuse<T>(
    conn: &mut diesel::PgConnection,
    actor: &Actor,
    action: AuditAction,
    id: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<Checked<T>> {
    let event = actor
        .event(action, EntityType::Facility, id, now)
        .outcome(Outcome::Denied);
    audit::append(conn, &[event])?;
    Ok(Checked::Refused)
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
    authorize(
        &state,
        &actor,
        Action::ReadFacilities,
        AuditAction::List,
        EntityType::Facility,
        None,
    )
    .await?;
    let query = query.into_inner();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse()?;
    let filter = ListFilter {
        unit_id: query.unit_id,
        kind: query.kind,
    };
    let now = state.clock.now();
    let reader = actor.clone();
    let (paged, works) = state
        .db
        .transaction(move |conn| {
            let paged = Paged::from_rows(store::list(conn, page, filter)?, page, |f| f.id);
            let ids: Vec<Uuid> = paged.items.iter().map(|f| f.id).collect();
            let works = works_at(conn, &reader, &ids)?;
            audit::append(
                conn,
                &[reader.event(AuditAction::List, EntityType::Facility, None, now)],
            )?;
            Ok((paged, works))
        })
        .await?;
    Ok(HttpResponse::Ok().json(paged.map(|row| {
        let works_there = works.contains(&row.id);
        view(&actor, row, works_there)
    })))
}

pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<CreateFacility>,
) -> AppResult<HttpResponse> {
    authorize(
        &state,
        &actor,
        Action::ManageFacilities,
        AuditAction::Create,
        EntityType::Facility,
        None,
    )
    .await?;
    let unit_id = body.unit_id;
    let parsed = body.parse();
    let now = state.clock.now();
    let creator = actor.clone();
    let row = state
        .db
        .transaction(move |conn| {
            if !crate::db::units::is_open(conn, unit_id)? {
                let mut errors = parsed.err().unwrap_or_default();
                errors.push(FieldError::new("unit_id", "no such active unit"));
                return Err(AppError::unprocessable(errors));
            }
            if !may_manage(&creator, unit_id) {
                return refuse(conn, &creator, AuditAction::Create, None, now);
            }
            let facility = parsed.map_err(AppError::unprocessable)?;
            let event = creator.event(AuditAction::Create, EntityType::Facility, None, now);
            let row = store::insert(conn, &facility, event.id, now)?;
            let mut changed = vec!["kind", "name", "unit_id", "capacity", "agreed_places"];
            if facility.address.is_some() {
                changed.push("address");
            }
            let event = AuditEvent {
                entity_id: Some(row.id),
                ..event
            }
            .changed(changed);
            audit::append(conn, &[event])?;
            Ok(Checked::Done(row))
        })
        .await?
        .answer()?;
    let mut response = HttpResponse::Created();
    with_etag(&row, &mut response);
    response.insert_header((header::LOCATION, format!("/api/v1/facilities/{}", row.id)));
    Ok(response.json(view(&actor, row, false)))
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    authorize(
        &state,
        &actor,
        Action::ReadFacilities,
        AuditAction::Read,
        EntityType::Facility,
        Some(id),
    )
    .await?;
    let now = state.clock.now();
    let reader = actor.clone();
    let (row, works_there) = state
        .db
        .transaction(move |conn| {
            let row = store::find(conn, id)?.ok_or(AppError::NotFound)?;
            let works_there = works_at(conn, &reader, &[id])?.contains(&id);
            audit::append(
                conn,
                &[reader.event(AuditAction::Read, EntityType::Facility, Some(id), now)],
            )?;
            Ok((row, works_there))
        })
        .await?;
    let mut response = HttpResponse::Ok();
    with_etag(&row, &mut response);
    Ok(response.json(view(&actor, row, works_there)))
}

pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<UpdateFacility>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    authorize(
        &state,
        &actor,
        Action::ManageFacilities,
        AuditAction::Update,
        EntityType::Facility,
        Some(id),
    )
    .await?;
    let expected_version = required_version(&req, id)?;
    let parsed = body.parse();
    let now = state.clock.now();
    let today = state.clock.today();
    let editor = actor.clone();
    let row = state
        .db
        .transaction(move |conn| {
            let current = store::find_for_update(conn, id)?.ok_or(AppError::NotFound)?;
            if !may_manage(&editor, current.unit_id) {
                return refuse(conn, &editor, AuditAction::Update, Some(id), now);
            }
            if current.version != expected_version {
                return Err(AppError::stale_version());
            }
            let changes = parsed.map_err(AppError::unprocessable)?;
            let name = changes.name.unwrap_or_else(|| current.name.clone());
            let address = changes.address.unwrap_or_else(|| current.address.clone());
            let capacity = changes.capacity.unwrap_or(current.capacity);
            let agreed_places = changes.agreed_places.unwrap_or(current.agreed_places);
            let active = changes.active.unwrap_or(current.active);
            if capacity < current.capacity {
                let busiest = store::busiest_day_from(conn, id, today)?;
                if i64::from(capacity) < busiest {
                    return Err(AppError::Conflict {
                        kind: ConflictKind::CapacityInUse,
                        detail: format!(
                            "{busiest} children are placed here on a day from today on; \
                             the capacity cannot be lower"
                        ),
                        errors: vec![FieldError::new(
                            "capacity",
                            format!("at least {busiest}: the children already placed here"),
                        )],
                    });
                }
            }
            let mut changed = Vec::new();
            if name != current.name {
                changed.push("name");
            }
            if address != current.address {
                changed.push("address");
            }
            if capacity != current.capacity {
                changed.push("capacity");
            }
            if agreed_places != current.agreed_places {
                changed.push("agreed_places");
            }
            if active != current.active {
                changed.push("active");
            }
            let event = editor
                .event(AuditAction::Update, EntityType::Facility, Some(id), now)
                .changed(changed);
            let merged = Merged {
                name: &name,
                address: address.as_deref(),
                capacity,
                agreed_places,
                active,
            };
            let row = store::update(conn, id, merged, event.id, now)?;
            audit::append(conn, &[event])?;
            Ok(Checked::Done(row))
        })
        .await?
        .answer()?;
    let mut response = HttpResponse::Ok();
    with_etag(&row, &mut response);
    Ok(response.json(view(&actor, row, false)))
}

pub async fn staff(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    authorize(
        &state,
        &actor,
        Action::ReadFacilityStaff,
        AuditAction::Read,
        EntityType::Facility,
        Some(id),
    )
    .await?;
    let page = query.parse()?;
    let now = state.clock.now();
    let paged = state
        .db
        .transaction(move |conn| {
            store::find(conn, id)?.ok_or(AppError::NotFound)?;
            let paged = Paged::from_rows(store::staff(conn, id, page)?, page, |s| s.user_id);
            audit::append(
                conn,
                &[actor.event(AuditAction::Read, EntityType::Facility, Some(id), now)],
            )?;
            Ok(paged)
        })
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
    let id = path.into_inner();
    authorize(
        &state,
        &actor,
        Action::ManageFacilities,
        AuditAction::Update,
        EntityType::Facility,
        Some(id),
    )
    .await?;
    let parsed = body.parse();
    let now = state.clock.now();
    let paged = state
        .db
        .transaction(move |conn| {
            // Locked, so two replacements of the same list happen one after the other.
            let facility = store::find_for_update(conn, id)?.ok_or(AppError::NotFound)?;
            if !may_manage(&actor, facility.unit_id) {
                return refuse(conn, &actor, AuditAction::Update, Some(id), now);
            }
            let named = parsed.map_err(AppError::unprocessable)?;
            check_staff(conn, facility.kind, &named)?;
            let ids: Vec<Uuid> = named.iter().map(|(_, id)| *id).collect();
            let event = actor.event(AuditAction::Update, EntityType::Facility, Some(id), now);
            let changed = store::replace_staff(conn, id, &ids, event.id)?;
            let event = event.changed(changed.then_some("staff"));
            let page = Page {
                limit: MAX_STAFF as i64,
                after: None,
            };
            let paged = Paged::from_rows(store::staff(conn, id, page)?, page, |s| s.user_id);
            audit::append(conn, &[event])?;
            Ok(Checked::Done(paged))
        })
        .await?
        .answer()?;
    Ok(HttpResponse::Ok().json(paged.map(StaffMemberView::from)))
}
