//! Retention (*gallring*): when a case's personal data may be removed, and which children are
//! kept whole as the research sample. Pure rules; `commands::retention` applies them.
//!
//! The law keeps a case for a number of years after the last entry in it and asks that it is
//! removed by the end of the following calendar year. Trygg reads that as one calendar year of
//! removal: a case whose last entry was made in year Y may be removed from 1 January of
//! Y + `keep_years` + 1 and must be removed by 31 December of that year. So with five years, a
//! last entry anywhere in 2020 is due from 2026-01-01 to 2026-12-31. Removal never comes early
//! (1 January of Y + 6 is always more than five full years after any day of Y, leap days
//! included), and a yearly run in January removes a whole year's cases together.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Five years, as the social-services law keeps a case.
fn default_keep_years() -> u32 {
    5
}

/// The social-services ordinance lets a municipality keep children born on these days of the
/// month for research.
fn default_sample_birth_days() -> Vec<u32> {
    vec![5, 15, 25]
}

/// The retention rules of one rule set (`[rule_set.retention]` in the rules file).
/// Placements (and their reviews) are always kept: statistics and the state's reimbursement
/// rest on them, and the database refuses to delete them.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Full years a case is kept after its last entry; removal follows in the calendar year
    /// after those years end (see the module's documentation).
    #[serde(default = "default_keep_years")]
    pub keep_years: u32,
    /// Days of the month (1–31): a child born on one of them is kept in full.
    #[serde(default = "default_sample_birth_days")]
    pub sample_birth_days: Vec<u32>,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            keep_years: default_keep_years(),
            sample_birth_days: default_sample_birth_days(),
        }
    }
}

/// When a case may, and must at the latest, be removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The first day the case may be removed.
    pub due_from: NaiveDate,
    /// The last day by which it must have been removed.
    pub deadline: NaiveDate,
}

impl Retention {
    /// Whether the values are possible: a keeping time of 1 to 100 years, sample days 1–31.
    pub fn is_sane(&self) -> bool {
        (1..=100).contains(&self.keep_years)
            && self.sample_birth_days.iter().all(|d| (1..=31).contains(d))
    }

    /// The removal window of a case whose last entry was made on `last_entry`, or `None` for a
    /// date so far in the future that the window has no calendar (never due).
    pub fn window(&self, last_entry: NaiveDate) -> Option<Window> {
        let year = last_entry
            .year()
            .checked_add(i32::try_from(self.keep_years).ok()?)?
            .checked_add(1)?;
        Some(Window {
            due_from: NaiveDate::from_ymd_opt(year, 1, 1)?,
            deadline: NaiveDate::from_ymd_opt(year, 12, 31)?,
        })
    }

    /// Whether a child born on `date_of_birth` belongs to the research sample, kept in full.
    pub fn in_sample(&self, date_of_birth: NaiveDate) -> bool {
        self.sample_birth_days.contains(&date_of_birth.day())
    }
}

/// What decides whether one child's case is due for removal on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    pub date_of_birth: NaiveDate,
    /// The day of the latest entry in the case (`commands::retention` says what counts).
    pub last_entry: NaiveDate,
    /// A placement that has not ended (and is not cancelled).
    pub active_placement: bool,
    /// The case is still open: an active placement, a contact schedule still running, or an
    /// age-out plan (which runs until 21).
    pub open: bool,
}

/// Why a case is not removed (or that it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Due(Window),
    /// Born on a sample day: kept in full.
    Sample,
    /// A placement is running.
    ActivePlacement,
    /// Under `placement_end_age` with an open case.
    OpenCase,
    /// The keeping time has not run out yet.
    NotYet,
}

/// The verdict on `case` on `today`, with `placement_end_age` as the age care may last to.
pub fn verdict(
    rules: &Retention,
    case: &Case,
    today: NaiveDate,
    placement_end_age: u32,
) -> Verdict {
    if case.active_placement {
        return Verdict::ActivePlacement;
    }
    if case.open && crate::domain::age::age_on(case.date_of_birth, today) < placement_end_age {
        return Verdict::OpenCase;
    }
    if rules.in_sample(case.date_of_birth) {
        return Verdict::Sample;
    }
    match rules.window(case.last_entry) {
        Some(window) if window.due_from <= today => Verdict::Due(window),
        _ => Verdict::NotYet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_last_entry_in_2020_is_due_during_2026() {
        let rules = Retention::default();
        for last in [day(2020, 1, 1), day(2020, 6, 30), day(2020, 12, 31)] {
            assert_eq!(
                rules.window(last),
                Some(Window {
                    due_from: day(2026, 1, 1),
                    deadline: day(2026, 12, 31)
                }),
                "{last}"
            );
        }
        let three = Retention {
            keep_years: 3,
            ..Retention::default()
        };
        assert_eq!(
            three.window(day(2020, 5, 1)).unwrap().due_from,
            day(2024, 1, 1)
        );
    }

    #[test]
    fn removal_never_comes_before_the_full_keeping_time() {
        let rules = Retention::default();
        let mut last = day(2016, 1, 1);
        while last < day(2025, 1, 1) {
            let due = rules.window(last).unwrap().due_from;
            // Five years on (29 February's anniversary falls on 1 March in a common year).
            let five_years_on = last
                .with_year(last.year() + 5)
                .unwrap_or_else(|| day(last.year() + 5, 3, 1));
            assert!(due > five_years_on, "{last} due {due}");
            last = last.succ_opt().unwrap();
        }
    }

    #[test]
    fn children_born_on_the_5th_15th_or_25th_are_the_sample() {
        let rules = Retention::default();
        assert!(rules.in_sample(day(2003, 3, 15)));
        assert!(rules.in_sample(day(2003, 2, 5)));
        assert!(rules.in_sample(day(2004, 12, 25)));
        assert!(!rules.in_sample(day(2003, 3, 14)));
        assert!(!rules.in_sample(day(2003, 3, 31)));
        let none = Retention {
            sample_birth_days: vec![],
            ..Retention::default()
        };
        assert!(!none.in_sample(day(2003, 3, 15)));
    }

    #[test]
    fn running_placements_open_cases_and_the_sample_are_never_due() {
        let rules = Retention::default();
        let today = day(2026, 12, 4);
        let old = Case {
            date_of_birth: day(2003, 3, 14),
            last_entry: day(2020, 6, 30),
            active_placement: false,
            open: false,
        };
        assert!(matches!(verdict(&rules, &old, today, 21), Verdict::Due(_)));
        assert_eq!(
            verdict(&rules, &old, day(2025, 12, 31), 21),
            Verdict::NotYet
        );
        let placed = Case {
            active_placement: true,
            ..old
        };
        assert_eq!(
            verdict(&rules, &placed, today, 21),
            Verdict::ActivePlacement
        );
        let young = Case {
            date_of_birth: day(2008, 3, 14),
            open: true,
            ..old
        };
        assert_eq!(verdict(&rules, &young, today, 21), Verdict::OpenCase);
        // Over 21, a schedule left running does not keep a case forever.
        let stale = Case { open: true, ..old };
        assert!(matches!(
            verdict(&rules, &stale, today, 21),
            Verdict::Due(_)
        ));
        let sample = Case {
            date_of_birth: day(2003, 3, 15),
            ..old
        };
        assert_eq!(verdict(&rules, &sample, today, 21), Verdict::Sample);
    }

    #[test]
    fn impossible_retention_rules_are_not_sane() {
        assert!(Retention::default().is_sane());
        assert!(!Retention {
            keep_years: 0,
            ..Retention::default()
        }
        .is_sane());
        assert!(!Retention {
            sample_birth_days: vec![32],
            ..Retention::default()
        }
        .is_sane());
    }
}
