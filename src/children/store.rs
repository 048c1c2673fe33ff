//! Queries of the children feature beyond the child's own row (`db::children`): where she lives
//! today and who her secretaries are, loaded for a whole page at once.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

pub use crate::db::children::ChildRow;
use crate::db::placement_days::covers;
use crate::db::schema::{child_secretaries, facilities, placements};

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

/// The placement that covers `today` for each of `child_ids` that has one: one query.
pub fn current_placements(
    conn: &mut PgConnection,
    child_ids: &[Uuid],
    today: NaiveDate,
) -> QueryResult<HashMap<Uuid, CurrentPlacement>> {
    let rows: Vec<(Uuid, CurrentPlacement)> = placements::table
        .inner_join(facilities::table)
        .filter(placements::child_id.eq_any(child_ids))
        .filter(covers(today))
        .select((
            placements::child_id,
            (
                placements::id,
                facilities::id,
                facilities::name,
                facilities::kind,
                facilities::address,
                placements::start_date,
                placements::planned_end,
            ),
        ))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The assigned secretaries of each of `child_ids`, in user id order: one query.
pub fn secretaries_of(
    conn: &mut PgConnection,
    child_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Vec<Uuid>>> {
    let rows: Vec<(Uuid, Uuid)> = child_secretaries::table
        .filter(child_secretaries::child_id.eq_any(child_ids))
        .select((child_secretaries::child_id, child_secretaries::user_id))
        .order((child_secretaries::child_id, child_secretaries::user_id))
        .load(conn)?;
    let mut by_child: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (child_id, user_id) in rows {
        by_child.entry(child_id).or_default().push(user_id);
    }
    Ok(by_child)
}
