//! Whether a placement that exists keeps to the age rules for a date of birth: what a revised
//! assessed age is checked against. Such a placement is reported, never changed, except that a
//! planned end that was the old default (the day before the end age's birthday) follows the new
//! one. Pure; the database checks new placements and changed dates the same way.

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::age::{birthday, day_before_birthday};
use crate::domain::facility_kind::FacilityKind;
use crate::rules::RuleSet;

/// A placement as the age rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Stay {
    pub kind: FacilityKind,
    pub start_date: NaiveDate,
    /// The recorded end, or the planned end while none is recorded.
    pub last_day: NaiveDate,
    pub has_special_reasons: bool,
}

/// What is wrong with a placement under a date of birth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum AgeProblem {
    /// The placement runs on to or past the birthday at which placements end.
    EndsAfterAgeLimit { latest_end: NaiveDate },
    /// Supported housing before the age for it.
    SupportedHousingTooYoung { allowed_from: NaiveDate },
    /// Supported housing below the age that needs special reasons, without them.
    SpecialReasonsMissing { needed_until: NaiveDate },
}

/// The problems of `stay` for a child born on `date_of_birth`, under the rules in force when it
/// started (as the database checks it).
pub fn problems(stay: &Stay, date_of_birth: NaiveDate, at_start: &RuleSet) -> Vec<AgeProblem> {
    let mut found = Vec::new();
    let latest_end = day_before_birthday(date_of_birth, at_start.placement_end_age);
    if stay.last_day > latest_end {
        found.push(AgeProblem::EndsAfterAgeLimit { latest_end });
    }
    if stay.kind == FacilityKind::SupportedHousing {
        let allowed_from = birthday(date_of_birth, at_start.supported_housing_min_age);
        if stay.start_date < allowed_from {
            found.push(AgeProblem::SupportedHousingTooYoung { allowed_from });
        }
        let needed_until = birthday(date_of_birth, at_start.special_reasons_below_age);
        if stay.start_date < needed_until && !stay.has_special_reasons {
            found.push(AgeProblem::SpecialReasonsMissing { needed_until });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn stay(kind: FacilityKind, start: &str, last: &str, reasons: bool) -> Stay {
        Stay {
            kind,
            start_date: day(start),
            last_day: day(last),
            has_special_reasons: reasons,
        }
    }

    #[test]
    fn a_younger_assessed_age_makes_supported_housing_unlawful_and_an_older_one_the_end() {
        let rules = Rules::built_in();
        let set = rules.on(day("2026-01-01"));
        let housing = stay(
            FacilityKind::SupportedHousing,
            "2026-01-01",
            "2027-12-31",
            true,
        );
        // Born 2010: 15 at the start, too young for supported housing.
        assert_eq!(
            problems(&housing, day("2010-06-01"), set),
            [AgeProblem::SupportedHousingTooYoung {
                allowed_from: day("2026-06-01")
            }]
        );
        // Born 1 December 2006: 21 on 1 December 2027, so a stay to the end of 2027 is too long.
        assert_eq!(
            problems(&housing, day("2006-12-01"), set),
            [AgeProblem::EndsAfterAgeLimit {
                latest_end: day("2027-11-30")
            }]
        );
        let hvb = stay(FacilityKind::Hvb, "2026-01-01", "2027-12-31", false);
        assert!(problems(&hvb, day("2010-06-01"), set).is_empty());
    }

    #[test]
    fn supported_housing_before_18_without_special_reasons_is_reported() {
        let rules = Rules::built_in();
        let set = rules.on(day("2026-01-01"));
        let housing = stay(
            FacilityKind::SupportedHousing,
            "2026-01-01",
            "2026-12-31",
            false,
        );
        assert_eq!(
            problems(&housing, day("2009-03-01"), set),
            [AgeProblem::SpecialReasonsMissing {
                needed_until: day("2027-03-01")
            }]
        );
    }
}
