//! Child rows. Every write names the audit event of its change.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::{AsylumStatus, ProtectionLevel, Sex};
use crate::db::schema::{child_secretaries, children, facilities, placements};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = children, treat_none_as_null = true)]
pub struct ChildRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub date_of_birth_assessed: bool,
    pub sex: Sex,
    pub country_of_origin: Option<String>,
    pub languages: Vec<String>,
    pub interpreter_needed: bool,
    pub dossier_number: Option<String>,
    pub personal_identity_number: Option<String>,
    pub asylum_status: AsylumStatus,
    pub arrival_date: Option<NaiveDate>,
    pub assigned_on: Option<NaiveDate>,
    pub guardian_name: Option<String>,
    pub guardian_phone: Option<String>,
    pub guardian_appointed_on: Option<NaiveDate>,
    pub protection_level: ProtectionLevel,
    pub responsible_unit_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    pub last_audit_event_id: Uuid,
}

/// Where a child lives today.
#[derive(Debug, Clone, Queryable)]
pub struct CurrentPlacement {
    pub placement_id: Uuid,
    pub facility_id: Uuid,
    pub facility_name: String,
    pub facility_kind: String,
    pub facility_address: Option<String>,
    pub start_date: NaiveDate,
    pub planned_end: NaiveDate,
}

/// Holds the child's row until commit: changes to one child (her record, her placements) are
/// decided one after the other.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    children::table
        .find(id)
        .select(children::id)
        .for_update()
        .first::<Uuid>(conn)
        .optional()
        .map(|_| ())
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<ChildRow>> {
    children::table
        .find(id)
        .select(ChildRow::as_select())
        .first(conn)
        .optional()
}

/// The placement that covers `today`, if any.
pub fn current_placement(
    conn: &mut PgConnection,
    child_id: Uuid,
    today: NaiveDate,
) -> QueryResult<Option<CurrentPlacement>> {
    placements::table
        .inner_join(facilities::table)
        .filter(placements::child_id.eq(child_id))
        .filter(placements::cancelled_at.is_null())
        .filter(placements::start_date.le(today))
        .filter(
            placements::end_date.ge(today).or(placements::end_date
                .is_null()
                .and(placements::planned_end.ge(today))),
        )
        .select((
            placements::id,
            facilities::id,
            facilities::name,
            facilities::kind,
            facilities::address,
            placements::start_date,
            placements::planned_end,
        ))
        .first(conn)
        .optional()
}

pub fn secretaries_of(conn: &mut PgConnection, child_id: Uuid) -> QueryResult<Vec<Uuid>> {
    child_secretaries::table
        .filter(child_secretaries::child_id.eq(child_id))
        .select(child_secretaries::user_id)
        .order(child_secretaries::user_id)
        .load(conn)
}
