use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::units;
use crate::error::AppResult;

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
    let id = Uuid::now_v7();
    diesel::insert_into(units::table)
        .values((
            units::id.eq(id),
            units::name.eq(name),
            units::created_at.eq(now),
            units::updated_at.eq(now),
            units::last_audit_event_id.eq(audit_event_id),
        ))
        .execute(conn)?;
    Ok(id)
}
