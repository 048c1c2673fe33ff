use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use uuid::Uuid;

use crate::db::schema::units;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::pagination::Page;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = units)]
pub struct UnitRow {
    pub id: Uuid,
    pub name: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// A unit's name, trimmed: 1 to 200 characters (the table's CHECK), unique.
pub fn validate_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if (1..=200).contains(&name.chars().count()) {
        Ok(name.to_owned())
    } else {
        Err(FieldError::new("name", "1 to 200 characters"))
    }
}

/// `units_name_key`, mapped by name in `AppError` to `name-taken`.
fn name_taken(error: DieselError) -> AppError {
    error.into()
}

pub fn find_by_name(conn: &mut PgConnection, name: &str) -> AppResult<Option<Uuid>> {
    Ok(units::table
        .filter(units::name.eq(name))
        .select(units::id)
        .first(conn)
        .optional()?)
}

pub fn insert(
    conn: &mut PgConnection,
    name: &str,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    create(conn, Uuid::now_v7(), name, audit_event_id, now).map(|row| row.id)
}

/// A new active unit; 409 naming `name` when the name is taken.
pub fn create(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<UnitRow> {
    diesel::insert_into(units::table)
        .values((
            units::id.eq(id),
            units::name.eq(name),
            units::created_at.eq(now),
            units::updated_at.eq(now),
            units::last_audit_event_id.eq(audit_event_id),
        ))
        .returning(UnitRow::as_returning())
        .get_result(conn)
        .map_err(name_taken)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> AppResult<Option<UnitRow>> {
    Ok(units::table
        .find(id)
        .select(UnitRow::as_select())
        .first(conn)
        .optional()?)
}

/// The unit, locked until the transaction ends, so a check of its version holds until the write.
pub fn find_for_update(conn: &mut PgConnection, id: Uuid) -> AppResult<Option<UnitRow>> {
    Ok(units::table
        .find(id)
        .select(UnitRow::as_select())
        .for_update()
        .first(conn)
        .optional()?)
}

/// One page, in id (creation) order; `page.limit + 1` rows, so the caller sees if more follow.
pub fn list(conn: &mut PgConnection, page: Page) -> AppResult<Vec<UnitRow>> {
    let mut query = units::table
        .select(UnitRow::as_select())
        .order(units::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(units::id.gt(after));
    }
    Ok(query.load(conn)?)
}

pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    active: bool,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<UnitRow> {
    diesel::update(units::table.find(id))
        .set((
            units::name.eq(name),
            units::active.eq(active),
            units::updated_at.eq(now),
            units::version.eq(units::version + 1),
            units::last_audit_event_id.eq(audit_event_id),
        ))
        .returning(UnitRow::as_returning())
        .get_result(conn)
        .map_err(name_taken)
}
