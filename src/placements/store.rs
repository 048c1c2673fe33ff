//! Placement rows and their reviews. Every write names the audit event of its change; every
//! conditional write answers `None` when the row is no longer as it was read.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Uuid as SqlUuid};
use uuid::Uuid;

pub use crate::db::placement_reviews::reviews_of;
pub use crate::domain::decisions::Reviews;

use super::{EndReason, FacilityKind, ReviewKind};
use crate::db::schema::{facilities, placement_reviews, placements};
use crate::error::AppError;
use crate::http::pagination::Page;

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

/// The kind of home `facility_id` is.
pub fn facility_kind(conn: &mut PgConnection, facility_id: Uuid) -> QueryResult<FacilityKind> {
    facilities::table
        .find(facility_id)
        .select(facilities::kind)
        .first(conn)
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

/// One page of a child's placements, oldest start first; `page.limit + 1` rows.
pub fn page_of_child(
    conn: &mut PgConnection,
    child_id: Uuid,
    page: Page,
) -> QueryResult<Vec<PlacementRow>> {
    let mut query = placements::table
        .filter(placements::child_id.eq(child_id))
        .order((placements::start_date, placements::id))
        .select(PlacementRow::as_select())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        // Keyset paging in (start_date, id) order, from the row the cursor names.
        query = query.filter(
            sql::<Bool>("(placements.start_date, placements.id) > (SELECT start_date, id FROM placements WHERE id = ")
                .bind::<SqlUuid, _>(after)
                .sql(")"),
        );
    }
    query.load(conn)
}

/// Database refusals (the placement trigger and the exclusion constraint name each rule) are
/// the problems the Rust checks answer, should a race get past them.
fn refused(error: diesel::result::Error) -> AppError {
    error.into()
}

pub fn insert(conn: &mut PgConnection, row: &PlacementRow) -> Result<(), AppError> {
    diesel::insert_into(placements::table)
        .values(row)
        .execute(conn)
        .map_err(refused)?;
    Ok(())
}

/// Records the end of `row`, if it is still the version that was read and not cancelled.
pub fn end(
    conn: &mut PgConnection,
    row: &PlacementRow,
    end_date: NaiveDate,
    reason: EndReason,
    now: DateTime<Utc>,
    event_id: Uuid,
) -> Result<Option<PlacementRow>, AppError> {
    diesel::update(
        placements::table
            .find(row.id)
            .filter(placements::version.eq(row.version))
            .filter(placements::cancelled_at.is_null()),
    )
    .set((
        placements::end_date.eq(end_date),
        placements::end_reason.eq(reason),
        placements::updated_at.eq(now),
        placements::version.eq(placements::version + 1),
        placements::last_audit_event_id.eq(event_id),
    ))
    .returning(PlacementRow::as_returning())
    .get_result(conn)
    .optional()
    .map_err(refused)
}

/// Cancels `id` (ended or not) unless it is cancelled already.
pub fn cancel(
    conn: &mut PgConnection,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
    event_id: Uuid,
) -> Result<Option<PlacementRow>, AppError> {
    diesel::update(
        placements::table
            .find(id)
            .filter(placements::cancelled_at.is_null()),
    )
    .set((
        placements::cancelled_at.eq(now),
        placements::cancellation_reason.eq(reason),
        placements::updated_at.eq(now),
        placements::version.eq(placements::version + 1),
        placements::last_audit_event_id.eq(event_id),
    ))
    .returning(PlacementRow::as_returning())
    .get_result(conn)
    .optional()
    .map_err(refused)
}

/// A new decision on a running placement: its planned end and decision reference, if it is
/// still version `expected`.
pub fn change_plan(
    conn: &mut PgConnection,
    id: Uuid,
    expected: i32,
    planned_end: NaiveDate,
    decision_reference: &str,
    now: DateTime<Utc>,
    event_id: Uuid,
) -> Result<Option<PlacementRow>, AppError> {
    diesel::update(
        placements::table
            .find(id)
            .filter(placements::version.eq(expected))
            .filter(placements::end_date.is_null())
            .filter(placements::cancelled_at.is_null()),
    )
    .set((
        placements::planned_end.eq(planned_end),
        placements::decision_reference.eq(decision_reference),
        placements::updated_at.eq(now),
        placements::version.eq(placements::version + 1),
        placements::last_audit_event_id.eq(event_id),
    ))
    .returning(PlacementRow::as_returning())
    .get_result(conn)
    .optional()
    .map_err(refused)
}

pub struct NewReview<'a> {
    pub placement_id: Uuid,
    pub kind: ReviewKind,
    pub decided_on: NaiveDate,
    pub decision_reference: &'a str,
    pub continued_need: Option<bool>,
}

pub fn insert_review(
    conn: &mut PgConnection,
    review: NewReview<'_>,
    now: DateTime<Utc>,
    event_id: Uuid,
) -> QueryResult<()> {
    diesel::insert_into(placement_reviews::table)
        .values((
            placement_reviews::id.eq(Uuid::now_v7()),
            placement_reviews::placement_id.eq(review.placement_id),
            placement_reviews::kind.eq(review.kind),
            placement_reviews::decided_on.eq(review.decided_on),
            placement_reviews::decision_reference.eq(review.decision_reference),
            placement_reviews::continued_need.eq(review.continued_need),
            placement_reviews::created_at.eq(now),
            placement_reviews::last_audit_event_id.eq(event_id),
        ))
        .execute(conn)?;
    Ok(())
}
