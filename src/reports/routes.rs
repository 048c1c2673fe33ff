//! `GET /api/v1/reports/capacity`: places, occupancy, forecast and turnover per facility and
//! unit. Unit managers see their own unit; administrators and systems with `capacity:read` see
//! every unit. The answer holds counts only, so one `read` event of a `report` records it.
//! `GET /api/v1/reports/contact-compliance` and `GET /api/v1/reports/committee` are read the
//! same way, by systems with `reports:read`; the committee report also as CSV.

use std::collections::BTreeSet;

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

use super::capacity::{self, Facility, Stay, Unit, Window};
use super::compliance::{self, Period};
use super::{committee, store, view};
use crate::access::refuse;
use crate::access::work::{allowed, Work};
use crate::audit::{self, AuditAction, AuditEvent, EntityType};
use crate::auth::actor::Actor;
use crate::db::occupancy::{self, Homes};
use crate::db::schema::{facilities, units};
use crate::db::Stop;
use crate::error::{AppError, AppResult};
use crate::http::csv::{attachment, Format};
use crate::http::ApiQuery;
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

/// What a unit manager is told when she asks for another unit's figures.
const OWN_UNIT_ONLY: &str = "a unit manager sees the figures of her own unit only";

/// The units a report covers for `work.actor`, who asked for `requested`, with the `read` event
/// that records the report; a unit she may not see is refused (403) with that event `denied`.
fn open_scope(
    conn: &mut PgConnection,
    work: &Work,
    requested: Option<Uuid>,
    refusal: &str,
) -> Result<(ReportScope, AuditEvent), Stop> {
    let event = work
        .actor
        .event(AuditAction::Read, EntityType::Report, None, work.at.now);
    match unit_scope(&work.actor, requested) {
        Some(scope) => Ok((scope, event)),
        None => Err(refuse(conn, event, AppError::forbidden(refusal))),
    }
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

/// The open homes of the units in scope.
fn homes_of(scope: ReportScope) -> Homes {
    match scope {
        ReportScope::Unit(id) => Homes::OpenInUnit(id),
        ReportScope::AllUnits => Homes::AllOpen,
    }
}

/// The stays of the open facilities in scope on some day of `[from, to]`: the one occupancy
/// query (`db::occupancy`), whose every row holds a place.
fn load_stays(
    conn: &mut PgConnection,
    scope: ReportScope,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Stay>> {
    occupancy::stays(conn, homes_of(scope), from, Some(to), None)
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
            let message = "a unit manager sees the capacity of her own unit only";
            let (scope, event) = open_scope(conn, &work, query.unit_id, message)?;
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
    #[serde(default, with = "crate::http::date::option")]
    from: Option<NaiveDate>,
    #[serde(default, with = "crate::http::date::option")]
    to: Option<NaiveDate>,
}

/// A report's period: both days given, `to` not before `from`, at most
/// [`MAX_COMPLIANCE_DAYS`] days in all.
fn period_of(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(NaiveDate, NaiveDate), AppError> {
    let from = from.ok_or_else(|| AppError::invalid_field("from", "is required"))?;
    let to = to.ok_or_else(|| AppError::invalid_field("to", "is required"))?;
    if to < from {
        return Err(AppError::invalid_field("to", "is before from"));
    }
    if (to - from).num_days() >= MAX_COMPLIANCE_DAYS {
        let message = format!("the period is at most {MAX_COMPLIANCE_DAYS} days");
        return Err(AppError::invalid_field("to", message));
    }
    Ok((from, to))
}

impl ComplianceQuery {
    fn span(&self) -> Result<(NaiveDate, NaiveDate), AppError> {
        period_of(self.from, self.to)
    }
}

pub async fn compliance(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<ComplianceQuery>,
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
            let (scope, event) = open_scope(conn, &work, query.unit_id, OWN_UNIT_ONLY)?;
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitteeQuery {
    unit_id: Option<Uuid>,
    #[serde(default, with = "crate::http::date::option")]
    from: Option<NaiveDate>,
    #[serde(default, with = "crate::http::date::option")]
    to: Option<NaiveDate>,
    #[serde(default)]
    format: Format,
}

impl CommitteeQuery {
    /// The period, of days that have passed: `to` is today at the latest, since a discharge
    /// after today is only planned.
    fn span(&self, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), AppError> {
        let (from, to) = period_of(self.from, self.to)?;
        if to > today {
            return Err(AppError::invalid_field("to", "is after today"));
        }
        Ok((from, to))
    }
}

/// The committee report's facts for `scope` and its figures: the open homes, their stays (with
/// each stay's child), the compliance facts of the scope's children and the education starts in
/// the plans of the stays' children. Six queries, whatever the period's length.
fn committee_report(
    conn: &mut PgConnection,
    scope: ReportScope,
    period: committee::Period,
    work: &Work,
) -> QueryResult<committee::Report> {
    let facilities = load_facilities(conn, scope)?;
    let (from, to) = period.span();
    let stays = occupancy::placed(conn, homes_of(scope), from, Some(to), None)?;
    let compliance_period = Period {
        from: period.from,
        to: period.to,
        today: work.at.today,
    };
    let schedules = store::schedules(conn, scope, compliance_period)?;
    let visits = store::visits(conn, scope, compliance_period)?;
    let rules = work.settings.rules.on(period.to);
    let target = rules.contact_on_time_target_percent;
    let compliance = committee::Compliance::of(compliance_period, target, &schedules, &visits);
    let children: BTreeSet<Uuid> = stays.iter().map(|(child, _)| *child).collect();
    let children: Vec<Uuid> = children.into_iter().collect();
    let education = store::education_starts(conn, &children, period.from, period.to)?;
    let facts = committee::Facts {
        facilities: &facilities,
        stays: &stays,
        compliance: &compliance,
        education: &education,
    };
    Ok(committee::report(period, store::unit_filter(scope), &facts))
}

pub async fn committee(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<CommitteeQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let format = query.format;
    let report = allowed(
        &state,
        actor,
        Action::ReadCommitteeReport,
        AuditAction::Read,
        EntityType::Report,
        None,
        move |conn, work| {
            let (from, to) = query.span(work.at.today)?;
            let (scope, event) = open_scope(conn, &work, query.unit_id, OWN_UNIT_ONLY)?;
            if load_units(conn, scope)?.is_none() {
                return Err(AppError::NotFound.into());
            }
            let rules = work.settings.rules.on(to);
            let period = committee::Period {
                from,
                to,
                adult_age: rules.adult_age,
                placement_end_age: rules.placement_end_age,
                education_start_within_months: rules.education_start_within_months,
            };
            let report = committee_report(conn, scope, period, &work)?;
            audit::append(conn, &[event])?;
            Ok(report)
        },
    )
    .await?;
    match format {
        Format::Json => Ok(HttpResponse::Ok().json(report)),
        Format::Csv => {
            let body = view::committee_csv(&report)?;
            let name = format!("committee-report-{}-{}.csv", report.from, report.to);
            Ok(attachment(HttpResponse::Ok(), &name, body))
        }
    }
}
