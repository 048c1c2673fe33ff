//! `GET /api/v1/reports/capacity`: places, occupancy, forecast and turnover per facility and
//! unit. Unit managers see their own unit; administrators and systems with `capacity:read` see
//! every unit. The answer holds counts only, so one `read` event of a `report` records it.

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

use super::capacity::{self, Facility, Stay, Unit, Window};
use super::compliance::{self, Period};
use super::store;
use crate::access::refuse;
use crate::access::work::allowed;
use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::Actor;
use crate::db::occupancy::{self, Homes};
use crate::db::schema::{facilities, units};
use crate::error::{AppError, AppResult};
use crate::policy::report::{unit_scope, ReportScope};
use crate::policy::Action;
use crate::state::AppState;

pub const DEFAULT_DAYS: i64 = 90;
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityQuery {
    unit_id: Option<Uuid>,
    days: Option<i64>,
}

/// The units in scope; `None` when a requested unit does not exist.
fn load_units(conn: &mut PgConnection, scope: ReportScope) -> QueryResult<Option<Vec<Unit>>> {
    let rows: Vec<(Uuid, String, bool)> = match scope {
        ReportScope::Unit(id) => units::table
            .filter(units::id.eq(id))
            .select((units::id, units::name, units::active))
            .load(conn)?,
        ReportScope::AllUnits => units::table
            .select((units::id, units::name, units::active))
            .load(conn)?,
    };
    if matches!(scope, ReportScope::Unit(_)) && rows.is_empty() {
        return Ok(None);
    }
    // A closed unit still shows while it has an active facility.
    let with_facilities: Vec<Uuid> = facilities::table
        .filter(facilities::active.eq(true))
        .select(facilities::unit_id)
        .distinct()
        .load(conn)?;
    Ok(Some(
        rows.into_iter()
            .filter(|(id, _, active)| {
                *active || with_facilities.contains(id) || scope == ReportScope::Unit(*id)
            })
            .map(|(id, name, _)| Unit { id, name })
            .collect(),
    ))
}

fn load_facilities(conn: &mut PgConnection, scope: ReportScope) -> QueryResult<Vec<Facility>> {
    let mut query = facilities::table
        .filter(facilities::active.eq(true))
        .select((
            facilities::id,
            facilities::unit_id,
            facilities::name,
            facilities::kind,
            facilities::capacity,
            facilities::agreed_places,
        ))
        .into_boxed();
    if let ReportScope::Unit(id) = scope {
        query = query.filter(facilities::unit_id.eq(id));
    }
    let rows: Vec<(
        Uuid,
        Uuid,
        String,
        crate::domain::facility_kind::FacilityKind,
        i32,
        i32,
    )> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, unit_id, name, kind, capacity, agreed_places)| Facility {
                id,
                unit_id,
                name,
                kind,
                capacity,
                agreed_places,
            },
        )
        .collect())
}

/// The stays of the open facilities in scope on some day of `[from, to]`: the one occupancy
/// query (`db::occupancy`), whose every row holds a place.
fn load_stays(
    conn: &mut PgConnection,
    scope: ReportScope,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Stay>> {
    let homes = match scope {
        ReportScope::Unit(id) => Homes::OpenInUnit(id),
        ReportScope::AllUnits => Homes::AllOpen,
    };
    occupancy::stays(conn, homes, from, Some(to), None)
}

pub async fn capacity(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<CapacityQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let (action, audit_action) = (Action::ReadCapacity, AuditAction::Read);
    let report = allowed(
        &state,
        actor,
        action,
        audit_action,
        EntityType::Report,
        None,
        move |conn, work| {
            let days = query.days.unwrap_or(DEFAULT_DAYS);
            if !(1..=MAX_DAYS).contains(&days) {
                return Err(
                    AppError::invalid_field("days", format!("must be 1 to {MAX_DAYS}")).into(),
                );
            }
            let event = work
                .actor
                .event(AuditAction::Read, EntityType::Report, None, work.at.now);
            let Some(scope) = unit_scope(&work.actor, query.unit_id) else {
                let message = "a unit manager sees the capacity of her own unit only";
                return Err(refuse(conn, event, AppError::forbidden(message)));
            };
            let today = work.at.today;
            let placement_end_age = work.settings.rules.on(today).placement_end_age;
            let window = Window {
                today,
                days: days as u32,
                placement_end_age,
            };
            let Some(units) = load_units(conn, scope)? else {
                return Err(AppError::NotFound.into());
            };
            let facilities = load_facilities(conn, scope)?;
            let (from, to) = window.span();
            let stays = load_stays(conn, scope, from, to)?;
            audit::append(conn, &[event])?;
            Ok(capacity::report(window, &units, &facilities, &stays))
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The longest period a compliance report covers.
pub const MAX_COMPLIANCE_DAYS: i64 = 366;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplianceQuery {
    unit_id: Option<Uuid>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl ComplianceQuery {
    fn span(&self) -> Result<(NaiveDate, NaiveDate), AppError> {
        let from = self
            .from
            .ok_or_else(|| AppError::invalid_field("from", "is required"))?;
        let to = self
            .to
            .ok_or_else(|| AppError::invalid_field("to", "is required"))?;
        if to < from {
            return Err(AppError::invalid_field("to", "is before from"));
        }
        if (to - from).num_days() >= MAX_COMPLIANCE_DAYS {
            let message = format!("the period is at most {MAX_COMPLIANCE_DAYS} days");
            return Err(AppError::invalid_field("to", message));
        }
        Ok((from, to))
    }
}

pub async fn compliance(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<ComplianceQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let report = allowed(
        &state,
        actor,
        Action::ReadCompliance,
        AuditAction::Read,
        EntityType::Report,
        None,
        move |conn, work| {
            let (from, to) = query.span()?;
            let event = work
                .actor
                .event(AuditAction::Read, EntityType::Report, None, work.at.now);
            let Some(scope) = unit_scope(&work.actor, query.unit_id) else {
                let message = "a unit manager sees the figures of her own unit only";
                return Err(refuse(conn, event, AppError::forbidden(message)));
            };
            let Some(units) = load_units(conn, scope)? else {
                return Err(AppError::NotFound.into());
            };
            let period = Period {
                from,
                to,
                today: work.at.today,
            };
            let schedules = store::schedules(conn, scope, period)?;
            let visits = store::visits(conn, scope, period)?;
            let target = work.settings.rules.on(to).contact_on_time_target_percent;
            let unit_ids: Vec<Uuid> = units.iter().map(|u| u.id).collect();
            audit::append(conn, &[event])?;
            Ok(compliance::report(
                period, target, &unit_ids, &schedules, &visits,
            ))
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(report))
}
