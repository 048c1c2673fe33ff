//! Schedule and visit rows. Every write names the audit event of its change; visits are only
//! ever inserted (the database refuses anything else).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

pub use crate::db::contact_schedules::{last_contacts, ScheduleRow};
use crate::db::schema::{contact_schedules, placements, visits};
use crate::domain::contact::VisitMode;
use crate::http::pagination::Page;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = visits)]
pub struct VisitRow {
    pub id: Uuid,
    pub child_id: Uuid,
    pub schedule_id: Option<Uuid>,
    pub performed_by: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub mode: VisitMode,
    pub at_placement: bool,
    pub completed: bool,
    pub not_completed_reason: Option<String>,
    pub spoke_alone: bool,
    pub planned: bool,
    pub interpreter_used: bool,
    pub notes: Option<String>,
    pub corrects_id: Option<Uuid>,
    pub correction_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_audit_event_id: Uuid,
}

/// One page of the child's schedules, in id order; `page.limit + 1` rows.
pub fn schedules_of(
    conn: &mut PgConnection,
    child_id: Uuid,
    page: Page,
) -> QueryResult<Vec<ScheduleRow>> {
    let mut query = contact_schedules::table
        .filter(contact_schedules::child_id.eq(child_id))
        .order(contact_schedules::id)
        .select(ScheduleRow::as_select())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(contact_schedules::id.gt(after));
    }
    query.load(conn)
}

pub fn find_schedule(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<ScheduleRow>> {
    contact_schedules::table
        .find(id)
        .select(ScheduleRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_schedule_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> QueryResult<Option<ScheduleRow>> {
    contact_schedules::table
        .find(id)
        .select(ScheduleRow::as_select())
        .for_no_key_update()
        .first(conn)
        .optional()
}

pub fn insert_schedule(conn: &mut PgConnection, row: &ScheduleRow) -> QueryResult<()> {
    diesel::insert_into(contact_schedules::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Writes the changed schedule, if it is still the version before `row.version`.
pub fn change_schedule(conn: &mut PgConnection, row: &ScheduleRow) -> QueryResult<bool> {
    let changed = diesel::update(
        contact_schedules::table
            .find(row.id)
            .filter(contact_schedules::version.eq(row.version - 1)),
    )
    .set((
        contact_schedules::recurrence.eq(&row.recurrence),
        contact_schedules::tolerance_days.eq(row.tolerance_days),
        contact_schedules::private_conversation.eq(row.private_conversation),
        contact_schedules::secretary_id.eq(row.secretary_id),
        contact_schedules::end_date.eq(row.end_date),
        contact_schedules::change_reason.eq(&row.change_reason),
        contact_schedules::updated_at.eq(row.updated_at),
        contact_schedules::version.eq(row.version),
        contact_schedules::last_audit_event_id.eq(row.last_audit_event_id),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The home of each of `placement_ids`.
pub fn homes_of(
    conn: &mut PgConnection,
    placement_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Uuid>> {
    let rows: Vec<(Uuid, Uuid)> = placements::table
        .filter(placements::id.eq_any(placement_ids))
        .select((placements::id, placements::facility_id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// One page of the child's visits, in the order they were recorded; `page.limit + 1` rows.
pub fn visits_of(
    conn: &mut PgConnection,
    child_id: Uuid,
    page: Page,
) -> QueryResult<Vec<VisitRow>> {
    let mut query = visits::table
        .filter(visits::child_id.eq(child_id))
        .order(visits::id)
        .select(VisitRow::as_select())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(visits::id.gt(after));
    }
    query.load(conn)
}

pub fn find_visit(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<VisitRow>> {
    visits::table
        .find(id)
        .select(VisitRow::as_select())
        .first(conn)
        .optional()
}

/// Which of `visit_ids` a later entry corrects.
pub fn corrected(conn: &mut PgConnection, visit_ids: &[Uuid]) -> QueryResult<HashSet<Uuid>> {
    let rows: Vec<Option<Uuid>> = visits::table
        .filter(visits::corrects_id.eq_any(visit_ids))
        .select(visits::corrects_id)
        .load(conn)?;
    Ok(rows.into_iter().flatten().collect())
}

pub fn insert_visit(conn: &mut PgConnection, row: &VisitRow) -> QueryResult<()> {
    diesel::insert_into(visits::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}
