//! Whom a worker's lists reach: a secretary the children she is assigned and the schedules
//! she keeps, home staff the children living where they work today, a unit manager her unit.
//! One query each, however many children.

use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

use super::contact_schedules::ScheduleRow;
use super::placement_days::covers;
use super::schema::{child_secretaries, children, contact_schedules, facility_staff, placements};

/// Whose children and schedules a worklist or a calendar takes in.
#[derive(Debug, Clone, Copy)]
pub enum Reach {
    /// The schedules a secretary keeps.
    Secretary(Uuid),
    /// The schedules of the children living today where this member of staff works.
    Staff(Uuid),
    /// Every schedule of the unit's children.
    Unit(Uuid),
}

/// The schedules in `reach` still running on `today`, in one query.
pub fn schedules(
    conn: &mut PgConnection,
    reach: Reach,
    today: NaiveDate,
) -> QueryResult<Vec<ScheduleRow>> {
    let running = contact_schedules::end_date
        .is_null()
        .or(contact_schedules::end_date.ge(today));
    let query = contact_schedules::table
        .filter(running)
        .select(ScheduleRow::as_select())
        .into_boxed();
    match reach {
        Reach::Secretary(id) => query.filter(contact_schedules::secretary_id.eq(id)),
        Reach::Staff(id) => query.filter(
            contact_schedules::placement_id.eq_any(
                placements::table
                    .inner_join(
                        facility_staff::table
                            .on(facility_staff::facility_id.eq(placements::facility_id)),
                    )
                    .filter(facility_staff::user_id.eq(id))
                    .filter(covers(today))
                    .select(placements::id.nullable()),
            ),
        ),
        Reach::Unit(unit) => query.filter(
            contact_schedules::child_id.eq_any(
                children::table
                    .filter(children::responsible_unit_id.eq(unit))
                    .select(children::id),
            ),
        ),
    }
    .load(conn)
}

/// The children in `reach` on `today`.
pub fn children(conn: &mut PgConnection, reach: Reach, today: NaiveDate) -> QueryResult<Vec<Uuid>> {
    match reach {
        Reach::Secretary(id) => child_secretaries::table
            .filter(child_secretaries::user_id.eq(id))
            .select(child_secretaries::child_id)
            .load(conn),
        Reach::Staff(id) => placements::table
            .inner_join(
                facility_staff::table.on(facility_staff::facility_id.eq(placements::facility_id)),
            )
            .filter(facility_staff::user_id.eq(id))
            .filter(covers(today))
            .select(placements::child_id)
            .distinct()
            .load(conn),
        Reach::Unit(unit) => children::table
            .filter(children::responsible_unit_id.eq(unit))
            .select(children::id)
            .load(conn),
    }
}
