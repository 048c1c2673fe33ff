//! Questions about units that several features ask.

use diesel::prelude::*;
use uuid::Uuid;

use super::schema::units;
use crate::error::AppResult;

/// Whether `unit_id` names a unit that is open.
pub fn is_open(conn: &mut PgConnection, unit_id: Uuid) -> AppResult<bool> {
    Ok(units::table
        .find(unit_id)
        .filter(units::active.eq(true))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Whether every one of `unit_ids` names a unit (open or closed: a closed unit's old children
/// are still its).
pub fn all_exist(conn: &mut PgConnection, unit_ids: &[Uuid]) -> AppResult<bool> {
    let found: i64 = units::table
        .filter(units::id.eq_any(unit_ids))
        .count()
        .get_result(conn)?;
    Ok(found == unit_ids.len() as i64)
}
