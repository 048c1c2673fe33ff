use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::{EndReason, FacilityKind, ReviewKind};
use crate::db::schema::{facilities, placement_reviews, placements};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = placements)]
pub struct PlacementRow {
    pub id: Uuid,
    pub child_id: Uuid,
    pub facility_id: Uuid,
    pub start_date: NaiveDate,
    pub planned_end: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub end_reason: Option<EndReason>,
    pub legal_basis: String,
    pub decision_reference: String,
    pub special_reasons: Option<String>,
    pub deviation_reason: Option<String>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancellation_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    pub last_audit_event_id: Uuid,
}

impl PlacementRow {
    /// The last day the placement holds a place.
    pub fn last_day(&self) -> NaiveDate {
        self.end_date.unwrap_or(self.planned_end)
    }

    pub fn is_active_on(&self, day: NaiveDate) -> bool {
        self.cancelled_at.is_none() && self.start_date <= day && day <= self.last_day()
    }
}

#[derive(Debug, Clone, Queryable)]
pub struct FacilityFacts {
    pub id: Uuid,
    pub kind: FacilityKind,
    pub name: String,
    pub unit_id: Uuid,
    pub capacity: i32,
    pub active: bool,
}

/// Locks the facility row: placements into one facility are decided one after the other.
pub fn lock_facility(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<FacilityFacts>> {
    facilities::table
        .find(id)
        .select((
            facilities::id,
            facilities::kind,
            facilities::name,
            facilities::unit_id,
            facilities::capacity,
            facilities::active,
        ))
        .for_update()
        .first(conn)
        .optional()
}

/// Locks the facility rows in id order, so two transactions that need the same two facilities
/// (crossing moves) take them in the same order and never wait for each other in a circle.
/// Returns what it found, in id order; ids that name nothing are left out.
pub fn lock_facilities(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<FacilityFacts>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        found.extend(lock_facility(conn, id)?);
    }
    Ok(found)
}

/// Reads the placement and locks its row against other writers until the transaction ends.
/// Take the child's lock first: child, then placement, then facility is the order every writer
/// follows.
pub fn find_for_update(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<PlacementRow>> {
    placements::table
        .find(id)
        .select(PlacementRow::as_select())
        .for_no_key_update()
        .first(conn)
        .optional()
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<PlacementRow>> {
    placements::table
        .find(id)
        .select(PlacementRow::as_select())
        .first(conn)
        .optional()
}

pub fn of_child(conn: &mut PgConnection, child_id: Uuid) -> QueryResult<Vec<PlacementRow>> {
    placements::table
        .filter(placements::child_id.eq(child_id))
        .order(placements::start_date)
        .select(PlacementRow::as_select())
        .load(conn)
}

/// The most children the facility holds on any day of `[from, to]`, not counting `except`.
pub fn busiest_day(
    conn: &mut PgConnection,
    facility_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    except: Option<Uuid>,
) -> QueryResult<i64> {
    let rows: Vec<(NaiveDate, NaiveDate)> = placements::table
        .filter(placements::facility_id.eq(facility_id))
        .filter(placements::cancelled_at.is_null())
        .filter(placements::id.ne(except.unwrap_or_else(Uuid::nil)))
        .filter(placements::start_date.le(to))
        .select((
            placements::start_date,
            diesel::dsl::sql::<diesel::sql_types::Date>("COALESCE(end_date, planned_end)"),
        ))
        .load(conn)?;
    // Sweep over start and end events: the running count's maximum within the window.
    let mut changes: Vec<(NaiveDate, i64)> = Vec::new();
    for (start, last) in rows {
        if last < from {
            continue;
        }
        changes.push((start.max(from), 1));
        if let Some(after) = last.succ_opt() {
            changes.push((after, -1));
        }
    }
    changes.sort();
    let (mut running, mut busiest) = (0i64, 0i64);
    for (day, change) in changes {
        running += change;
        if day <= to {
            busiest = busiest.max(running);
        }
    }
    Ok(busiest)
}

/// The latest decision of `kind` for a placement.
pub fn latest_review(
    conn: &mut PgConnection,
    placement_id: Uuid,
    kind: ReviewKind,
) -> QueryResult<Option<NaiveDate>> {
    placement_reviews::table
        .filter(placement_reviews::placement_id.eq(placement_id))
        .filter(placement_reviews::kind.eq(kind))
        .select(diesel::dsl::max(placement_reviews::decided_on))
        .first(conn)
}

/// The latest decision of `kind` and whether it said the need continues.
pub fn latest_decision(
    conn: &mut PgConnection,
    placement_id: Uuid,
    kind: ReviewKind,
) -> QueryResult<Option<bool>> {
    Ok(placement_reviews::table
        .filter(placement_reviews::placement_id.eq(placement_id))
        .filter(placement_reviews::kind.eq(kind))
        .order((
            placement_reviews::decided_on.desc(),
            placement_reviews::created_at.desc(),
        ))
        .select(placement_reviews::continued_need)
        .first::<Option<bool>>(conn)
        .optional()?
        .flatten())
}
