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
