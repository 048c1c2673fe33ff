//! The placements of some children that still run or have yet to start, with what the age rules
//! need of them (`domain::age_limits`): checked when a date of birth is revised, and shown in
//! the worklist while one breaks a rule.

use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{facilities, placements};
use crate::domain::age_limits::{problems, AgeProblem, Stay};
use crate::domain::facility_kind::FacilityKind;
use crate::rules::Rules;

#[derive(Debug, Clone, Queryable)]
pub struct Running {
    pub id: Uuid,
    pub child_id: Uuid,
    pub kind: FacilityKind,
    pub start_date: NaiveDate,
    pub planned_end: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub has_special_reasons: bool,
}

impl Running {
    pub fn last_day(&self) -> NaiveDate {
        self.end_date.unwrap_or(self.planned_end)
    }

    /// What breaks the age rules for a child born on `date_of_birth`.
    pub fn age_problems(&self, date_of_birth: NaiveDate, rules: &Rules) -> Vec<AgeProblem> {
        let stay = Stay {
            kind: self.kind,
            start_date: self.start_date,
            last_day: self.last_day(),
            has_special_reasons: self.has_special_reasons,
        };
        problems(&stay, date_of_birth, rules.on(self.start_date))
    }
}

/// The placements of `child_ids`, not cancelled, whose last day is `today` or later.
pub fn of_children(
    conn: &mut PgConnection,
    child_ids: &[Uuid],
    today: NaiveDate,
) -> QueryResult<Vec<Running>> {
    placements::table
        .inner_join(facilities::table)
        .filter(placements::child_id.eq_any(child_ids))
        .filter(placements::cancelled_at.is_null())
        .filter(
            placements::end_date.ge(today).or(placements::end_date
                .is_null()
                .and(placements::planned_end.ge(today))),
        )
        .order(placements::start_date)
        .select((
            placements::id,
            placements::child_id,
            facilities::kind,
            placements::start_date,
            placements::planned_end,
            placements::end_date,
            placements::special_reasons.is_not_null(),
        ))
        .load(conn)
}
