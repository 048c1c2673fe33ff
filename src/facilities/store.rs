//! Reading and writing facilities and their staff. Every write of a facility names the audit
//! event of its change.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::input::NewFacility;
use super::FacilityKind;
use crate::db::schema::{facilities, facility_staff, users};
use crate::error::AppResult;
use crate::http::pagination::Page;
use crate::policy::Profession;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = facilities)]
pub struct FacilityRow {
    pub id: Uuid,
    pub kind: FacilityKind,
    pub name: String,
    pub unit_id: Uuid,
    pub address: Option<String>,
    pub capacity: i32,
    pub agreed_places: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// Someone on a facility's staff list.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct StaffRow {
    #[diesel(column_name = id)]
    pub user_id: Uuid,
    pub display_name: String,
    pub profession: Profession,
    pub active: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub unit_id: Option<Uuid>,
    pub kind: Option<FacilityKind>,
    /// Only these units' (a system granted some units).
    pub within: Option<Vec<Uuid>>,
}

pub fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    facility: &NewFacility,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<FacilityRow> {
    Ok(diesel::insert_into(facilities::table)
        .values((
            facilities::id.eq(id),
            facilities::kind.eq(facility.kind),
            facilities::name.eq(&facility.name),
            facilities::unit_id.eq(facility.unit_id),
            facilities::address.eq(&facility.address),
            facilities::capacity.eq(facility.capacity),
            facilities::agreed_places.eq(facility.agreed_places),
            facilities::created_at.eq(now),
            facilities::updated_at.eq(now),
            facilities::last_audit_event_id.eq(audit_event_id),
        ))
        .returning(FacilityRow::as_returning())
        .get_result(conn)?)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> AppResult<Option<FacilityRow>> {
    Ok(facilities::table
        .find(id)
        .select(FacilityRow::as_select())
        .first(conn)
        .optional()?)
}

/// The facility, locked until the transaction ends. Placements lock the same row before they
/// count the places, so a change of capacity and a new placement never pass each other.
pub fn find_for_update(conn: &mut PgConnection, id: Uuid) -> AppResult<Option<FacilityRow>> {
    Ok(facilities::table
        .find(id)
        .select(FacilityRow::as_select())
        .for_update()
        .first(conn)
        .optional()?)
}

/// One page, in id (creation) order; `page.limit + 1` rows, so the caller sees if more follow.
pub fn list(
    conn: &mut PgConnection,
    page: Page,
    filter: ListFilter,
) -> AppResult<Vec<FacilityRow>> {
    let mut query = facilities::table
        .select(FacilityRow::as_select())
        .order(facilities::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(facilities::id.gt(after));
    }
    if let Some(unit_id) = filter.unit_id {
        query = query.filter(facilities::unit_id.eq(unit_id));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(facilities::kind.eq(kind));
    }
    if let Some(units) = filter.within {
        query = query.filter(facilities::unit_id.eq_any(units));
    }
    Ok(query.load(conn)?)
}

/// What an update sets; the caller has merged the request into the current row.
pub struct Merged {
    pub name: String,
    pub address: Option<String>,
    pub capacity: i32,
    pub agreed_places: i32,
    pub active: bool,
}

pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    merged: &Merged,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<FacilityRow> {
    Ok(diesel::update(facilities::table.find(id))
        .set((
            facilities::name.eq(&merged.name),
            facilities::address.eq(&merged.address),
            facilities::capacity.eq(merged.capacity),
            facilities::agreed_places.eq(merged.agreed_places),
            facilities::active.eq(merged.active),
            facilities::updated_at.eq(now),
            facilities::version.eq(facilities::version + 1),
            facilities::last_audit_event_id.eq(audit_event_id),
        ))
        .returning(FacilityRow::as_returning())
        .get_result(conn)?)
}

/// Which of `facility_ids` `user_id` is on the staff list of.
pub fn works_at(
    conn: &mut PgConnection,
    user_id: Uuid,
    facility_ids: &[Uuid],
) -> AppResult<HashSet<Uuid>> {
    if facility_ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(facility_staff::table
        .filter(facility_staff::user_id.eq(user_id))
        .filter(facility_staff::facility_id.eq_any(facility_ids))
        .select(facility_staff::facility_id)
        .load::<Uuid>(conn)?
        .into_iter()
        .collect())
}

/// One page of the facility's staff, in user id order; `page.limit + 1` rows.
pub fn staff(conn: &mut PgConnection, facility_id: Uuid, page: Page) -> AppResult<Vec<StaffRow>> {
    let mut query = facility_staff::table
        .inner_join(users::table)
        .filter(facility_staff::facility_id.eq(facility_id))
        .select(StaffRow::as_select())
        .order(users::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(users::id.gt(after));
    }
    Ok(query.load(conn)?)
}

/// The profession and whether active, of each of `ids` that exists.
/// The people named, locked against a change of profession or unit until the caller commits:
/// an assignment and a move of the same person cannot pass each other.
pub fn people(conn: &mut PgConnection, ids: &[Uuid]) -> AppResult<Vec<(Uuid, Profession, bool)>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::profession, users::active))
        .for_share()
        .load(conn)?)
}

/// Makes `user_ids` the whole staff list; answers whether anything changed.
pub fn replace_staff(
    conn: &mut PgConnection,
    facility_id: Uuid,
    user_ids: &[Uuid],
    audit_event_id: Uuid,
) -> AppResult<bool> {
    let current: HashSet<Uuid> = facility_staff::table
        .filter(facility_staff::facility_id.eq(facility_id))
        .select(facility_staff::user_id)
        .load::<Uuid>(conn)?
        .into_iter()
        .collect();
    let wanted: HashSet<Uuid> = user_ids.iter().copied().collect();
    let gone: Vec<Uuid> = current.difference(&wanted).copied().collect();
    let new: Vec<_> = wanted
        .difference(&current)
        .map(|user_id| {
            (
                facility_staff::facility_id.eq(facility_id),
                facility_staff::user_id.eq(*user_id),
                facility_staff::last_audit_event_id.eq(Some(audit_event_id)),
            )
        })
        .collect();
    if !gone.is_empty() {
        diesel::delete(
            facility_staff::table
                .filter(facility_staff::facility_id.eq(facility_id))
                .filter(facility_staff::user_id.eq_any(&gone)),
        )
        .execute(conn)?;
    }
    if !new.is_empty() {
        diesel::insert_into(facility_staff::table)
            .values(&new)
            .execute(conn)?;
    }
    Ok(!gone.is_empty() || !new.is_empty())
}
