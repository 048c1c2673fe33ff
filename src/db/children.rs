//! The child's row, shared by the access layer (which opens a child for an actor) and the
//! features that work on her. Every write names the audit event of its change.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::children;
use crate::domain::child::{AsylumStatus, ProtectionLevel, Sex};

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
    /// The god man's appointment ended (by law at 18), and whether a specially appointed
    /// guardian follows; `None` until recorded.
    pub guardian_ended_on: Option<NaiveDate>,
    pub guardian_special_follows: Option<bool>,
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

/// The rows of `ids` that exist, in no particular order.
pub fn find_many(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<ChildRow>> {
    children::table
        .filter(children::id.eq_any(ids))
        .select(ChildRow::as_select())
        .load(conn)
}
