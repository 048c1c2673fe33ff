//! State reimbursement (*återsökning*, ordinance 2017:193): the amounts and who they are for,
//! per rule set (`[rule_set.reimbursement]`), since the ordinance changes them by date. Amounts
//! are in öre (hundredths of a krona), so no figure is ever rounded. A set without this table
//! claims nothing for its days.

use serde::{Deserialize, Serialize};

use crate::domain::child::AsylumStatus;

/// The reimbursement rules of one rule set.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Reimbursement {
    /// The ordinance and its sections the amounts come from, shown on every claim.
    pub reference: String,
    /// A day in care of a child under the adult age with one of `asylum_seeker_statuses`.
    pub asylum_seeker_daily_ore: i64,
    pub asylum_seeker_statuses: Vec<AsylumStatus>,
    /// A day in continued care of a young person from the adult age to the end of care, with
    /// one of `continued_care_statuses`.
    pub continued_care_daily_ore: i64,
    pub continued_care_statuses: Vec<AsylumStatus>,
    /// Once per child assigned to the municipality (`assigned_on`), in the quarter of the day.
    pub assignment_once_ore: i64,
    /// Placements under these legal bases are care at the level of the Care of Young Persons
    /// Act: their actual cost above the daily amounts claimed for the same days is claimable.
    pub lvu_legal_bases: Vec<String>,
    /// The quarter's claims reach Migrationsverket at the latest this many months after it ends.
    pub deadline_months_after_quarter: u32,
    /// The administrator's worklist shows a quarter without a submitted claim this many days
    /// before its deadline.
    pub deadline_warning_days: u32,
}

impl Reimbursement {
    /// Whether the values are possible: no negative amount, a deadline within two years.
    pub fn is_sane(&self) -> bool {
        self.asylum_seeker_daily_ore >= 0
            && self.continued_care_daily_ore >= 0
            && self.assignment_once_ore >= 0
            && (1..=24).contains(&self.deadline_months_after_quarter)
            && self.deadline_warning_days <= 366
            && !self.reference.trim().is_empty()
    }
}
