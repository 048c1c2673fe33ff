//! Which placements hold a place on a given day: the one definition every query uses (who lives
//! where today, who works where a child lives, the children a home's staff may see).

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::placements;

/// A placement holds its place from its start to its end, or while no end is recorded, to its
/// planned end; a cancelled one holds nothing.
#[diesel::dsl::auto_type(no_type_alias)]
pub fn covers(day: NaiveDate) -> _ {
    placements::cancelled_at
        .is_null()
        .and(placements::start_date.le(day))
        .and(
            placements::end_date.ge(day).or(placements::end_date
                .is_null()
                .and(placements::planned_end.ge(day))),
        )
}
