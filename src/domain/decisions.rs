//! The decisions a placement needs while it runs, and when: the reconsideration of continued
//! need (övervägande), the revision of the care plan, and the decision whether care continues
//! past the adult age. Pure; the placements feature shows them, the worklist lists them.

use chrono::{Months, NaiveDate};
use serde::Serialize;

crate::text_enum! {
    pub enum ReviewKind {
        /// Övervägande: is the placement still needed?
        Reconsideration = "reconsideration",
        /// Vårdplan revised.
        CarePlan = "care_plan",
        /// Whether care continues past the 18th birthday: a decision, never automatic.
        ContinuedCareAfter18 = "continued_care_after_18",
        /// The notice to Migrationsverket that the municipality keeps its responsibility past
        /// the 18th birthday, recorded when sent (its date and Migrationsverket's reference).
        MigrationAgencyNotice = "migration_agency_notice",
    }
}

impl ReviewKind {
    /// Whether a decision of this kind says if the need for care continues.
    pub fn decides_continued_need(self) -> bool {
        matches!(
            self,
            ReviewKind::Reconsideration | ReviewKind::ContinuedCareAfter18
        )
    }
}

/// The latest decisions about a placement.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reviews {
    pub last_reconsideration: Option<NaiveDate>,
    pub last_care_plan: Option<NaiveDate>,
    /// The latest decision on care after 18: does it continue?
    pub continued_care: Option<bool>,
    /// When the notice to Migrationsverket was sent.
    pub migration_agency_notice: Option<NaiveDate>,
}

#[derive(Debug, Serialize)]
pub struct Due {
    pub due_on: NaiveDate,
    pub overdue: bool,
}

/// Due `months` after `from` (the last decision, or the placement's start).
pub fn due_after(from: NaiveDate, months: u32, today: NaiveDate) -> Due {
    let due_on = from
        .checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX);
    Due {
        due_on,
        overdue: due_on < today,
    }
}

/// Care past the adult age is a decision, never automatic.
#[derive(Debug, Serialize)]
pub struct ContinuedCare {
    /// The birthday from which the placement needs a decision to continue.
    pub decision_needed_by: NaiveDate,
    /// `None` until decided.
    pub continues: Option<bool>,
    pub overdue: bool,
}

/// The decision on care past the adult age, for a placement running over `days` (first and
/// last day) that spans the birthday; `None` when it does not.
pub fn continued_care(
    (start, last_day): (NaiveDate, NaiveDate),
    date_of_birth: NaiveDate,
    adult_age: u32,
    decided: Option<bool>,
    today: NaiveDate,
) -> Option<ContinuedCare> {
    let adult_on = crate::domain::age::birthday(date_of_birth, adult_age);
    (start < adult_on && adult_on <= last_day).then(|| ContinuedCare {
        decision_needed_by: adult_on,
        continues: decided,
        overdue: decided.is_none() && today >= adult_on,
    })
}
