//! The latest decisions recorded about placements, for the placements feature and the
//! worklist alike.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::placement_reviews;
use crate::domain::decisions::{ReviewKind, Reviews};

/// The latest decisions of each of `placement_ids`: one query, whatever their number.
pub fn reviews_of(
    conn: &mut PgConnection,
    placement_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Reviews>> {
    let rows: Vec<(Uuid, ReviewKind, NaiveDate, Option<bool>)> = placement_reviews::table
        .filter(placement_reviews::placement_id.eq_any(placement_ids))
        // Latest last, so each later row overrides an earlier one.
        .order((
            placement_reviews::decided_on.asc(),
            placement_reviews::created_at.asc(),
        ))
        .select((
            placement_reviews::placement_id,
            placement_reviews::kind,
            placement_reviews::decided_on,
            placement_reviews::continued_need,
        ))
        .load(conn)?;
    let mut by_placement: HashMap<Uuid, Reviews> = placement_ids
        .iter()
        .map(|id| (*id, Reviews::default()))
        .collect();
    for (placement_id, kind, decided_on, continued_need) in rows {
        let reviews = by_placement.entry(placement_id).or_default();
        match kind {
            ReviewKind::Reconsideration => reviews.last_reconsideration = Some(decided_on),
            ReviewKind::CarePlan => reviews.last_care_plan = Some(decided_on),
            ReviewKind::ContinuedCareAfter18 => reviews.continued_care = continued_need,
            ReviewKind::MigrationAgencyNotice => reviews.migration_agency_notice = Some(decided_on),
        }
    }
    Ok(by_placement)
}
