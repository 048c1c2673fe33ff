//! The age-out plan (the plan for leaving care at 21): its vocabulary, and the dates that follow
//! from the date of birth and the rules. Pure: the milestones are computed from the date of birth
//! each time they are shown, so a revised (re-assessed) date of birth moves them at once.

use chrono::{Months, NaiveDate};
use serde::Serialize;

use super::age::{birthday, day_before_birthday};

crate::text_enum! {
    /// What a goal is about.
    pub enum GoalDomain {
        /// School, SFI, training or work.
        EducationOccupation = "education_occupation",
        Economy = "economy",
        SocialNetwork = "social_network",
        Leisure = "leisure",
        Housing = "housing",
        Health = "health",
        /// The youth's permit to stay in Sweden.
        ResidenceStatus = "residence_status",
    }
}

crate::text_enum! {
    /// Who sees to a goal.
    pub enum GoalResponsible {
        /// The youth herself.
        Youth = "youth",
        /// Her social secretary.
        Secretary = "secretary",
        /// The staff of the home where she lives.
        HomeStaff = "home_staff",
        /// Someone else, named in `responsible_other` (the god man, a school counsellor...).
        Other = "other",
    }
}

crate::text_enum! {
    pub enum GoalStatus {
        NotStarted = "not_started",
        InProgress = "in_progress",
        Achieved = "achieved",
        /// Given up, with a reason.
        Dropped = "dropped",
    }
}

crate::text_enum! {
    /// What the youth applied to.
    pub enum EducationKind {
        /// Upper secondary school (gymnasium, its introductory programmes) or other schooling.
        School = "school",
        /// Svenska för invandrare: Swedish for immigrants.
        Sfi = "sfi",
    }
}

crate::text_enum! {
    /// Why the plan is due when it is.
    pub enum OpensBecause {
        /// The birthday the rules name (the 17th).
        Birthday = "birthday",
        /// The first placement in supported housing came first.
        SupportedHousing = "supported_housing",
    }
}

/// The dates that follow from the date of birth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Milestones {
    /// The plan is open at the latest on this day.
    pub opens_by: NaiveDate,
    pub opens_because: OpensBecause,
    /// The 18th birthday (the rules' adult age): the god man's appointment ends.
    pub turns_18_on: NaiveDate,
    /// The 21st birthday (the rules' placement end age): care has ended.
    pub turns_21_on: NaiveDate,
    /// The last day a placement may hold: the day before the 21st birthday.
    pub last_placement_day: NaiveDate,
}

/// The ages the milestones are computed with (from the rules in force).
#[derive(Debug, Clone, Copy)]
pub struct Ages {
    pub opens_at: u32,
    pub adult: u32,
    pub placement_end: u32,
}

/// The milestones of someone born on `date_of_birth`, who first lived in supported housing from
/// `supported_housing_from` (if ever): the plan opens by the earlier of the birthday and that day.
pub fn milestones(
    date_of_birth: NaiveDate,
    supported_housing_from: Option<NaiveDate>,
    ages: Ages,
) -> Milestones {
    let birthday_due = birthday(date_of_birth, ages.opens_at);
    let (opens_by, opens_because) = match supported_housing_from {
        Some(day) if day < birthday_due => (day, OpensBecause::SupportedHousing),
        _ => (birthday_due, OpensBecause::Birthday),
    };
    Milestones {
        opens_by,
        opens_because,
        turns_18_on: birthday(date_of_birth, ages.adult),
        turns_21_on: birthday(date_of_birth, ages.placement_end),
        last_placement_day: day_before_birthday(date_of_birth, ages.placement_end),
    }
}

/// `months` after `from`; the last day of the month when that month is shorter (31 August + 6
/// months is 28 or 29 February).
pub fn months_after(from: NaiveDate, months: u32) -> NaiveDate {
    from.checked_add_months(Months::new(months))
        .expect("a date months ahead is within the range chrono can represent")
}

/// When the next review of the plan is due: `months` after the last one, or after the plan was
/// opened when there has been none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReviewDue {
    pub due_on: NaiveDate,
    pub overdue: bool,
}

pub fn next_review(
    opened_on: NaiveDate,
    last_review: Option<NaiveDate>,
    months: u32,
    today: NaiveDate,
) -> ReviewDue {
    let due_on = months_after(last_review.unwrap_or(opened_on).max(opened_on), months);
    ReviewDue {
        due_on,
        overdue: today > due_on,
    }
}

/// The reviews still to come at the interval, from the next one due up to the last placement day.
pub fn planned_reviews(
    next: NaiveDate,
    months: u32,
    last_placement_day: NaiveDate,
) -> Vec<NaiveDate> {
    let mut dates = Vec::new();
    let mut n = 0;
    loop {
        let due = months_after(next, months * n);
        if due > last_placement_day || dates.len() >= 40 {
            return dates;
        }
        dates.push(due);
        n += 1;
    }
}

/// How an application to school or SFI stands against the rule that the start comes within
/// `within_months` of the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EducationWait {
    /// The last day a start keeps the rule.
    pub start_due_by: NaiveDate,
    /// Days from the application to the start, or to today while she still waits.
    pub waiting_days: i64,
    /// Still waiting: no start, or one still ahead.
    pub waiting: bool,
    /// The start came (or is set to come) too late, or the deadline passed without one.
    pub breach: bool,
}

pub fn education_wait(
    applied_on: NaiveDate,
    started_on: Option<NaiveDate>,
    within_months: u32,
    today: NaiveDate,
) -> EducationWait {
    let start_due_by = months_after(applied_on, within_months);
    let started = started_on.filter(|s| *s <= today);
    let waited_until = started.unwrap_or(today);
    EducationWait {
        start_due_by,
        waiting_days: (waited_until - applied_on).num_days().max(0),
        waiting: started.is_none(),
        breach: match started_on {
            Some(start) => start > start_due_by,
            None => today > start_due_by,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("test date is valid")
    }

    const AGES: Ages = Ages {
        opens_at: 17,
        adult: 18,
        placement_end: 21,
    };

    #[test]
    fn an_ordinary_birthday_gives_the_17th_18th_and_21st_birthdays() {
        let m = milestones(date(2009, 6, 1), None, AGES);
        assert_eq!(m.opens_by, date(2026, 6, 1));
        assert_eq!(m.opens_because, OpensBecause::Birthday);
        assert_eq!(m.turns_18_on, date(2027, 6, 1));
        assert_eq!(m.turns_21_on, date(2030, 6, 1));
        assert_eq!(m.last_placement_day, date(2030, 5, 31));
    }

    #[test]
    fn a_29_february_birth_has_its_birthdays_on_1_march_in_common_years() {
        let m = milestones(date(2008, 2, 29), None, AGES);
        assert_eq!(m.opens_by, date(2025, 3, 1));
        assert_eq!(m.turns_18_on, date(2026, 3, 1));
        assert_eq!(m.turns_21_on, date(2029, 3, 1));
        assert_eq!(m.last_placement_day, date(2029, 2, 28));
        // In a leap year the birthday is 29 February itself.
        let leap = milestones(date(2011, 2, 28), None, AGES);
        assert_eq!(leap.turns_21_on, date(2032, 2, 28));
        let born_leap = milestones(
            date(2004, 2, 29),
            None,
            Ages {
                opens_at: 16,
                ..AGES
            },
        );
        assert_eq!(born_leap.opens_by, date(2020, 2, 29));
    }

    #[test]
    fn supported_housing_before_the_birthday_opens_the_plan_earlier() {
        let dob = date(2009, 6, 1);
        let early = milestones(dob, Some(date(2026, 1, 15)), AGES);
        assert_eq!(
            (early.opens_by, early.opens_because),
            (date(2026, 1, 15), OpensBecause::SupportedHousing)
        );
        let late = milestones(dob, Some(date(2026, 8, 1)), AGES);
        assert_eq!(
            (late.opens_by, late.opens_because),
            (date(2026, 6, 1), OpensBecause::Birthday)
        );
    }

    #[test]
    fn a_review_is_due_six_months_after_the_last_or_the_opening() {
        let opened = date(2026, 3, 10);
        let first = next_review(opened, None, 6, date(2026, 9, 10));
        assert_eq!(
            first,
            ReviewDue {
                due_on: date(2026, 9, 10),
                overdue: false
            }
        );
        assert!(next_review(opened, None, 6, date(2026, 9, 11)).overdue);
        let after = next_review(opened, Some(date(2026, 8, 31)), 6, date(2026, 9, 11));
        assert_eq!(after.due_on, date(2027, 2, 28));
        assert!(!after.overdue);
    }

    #[test]
    fn planned_reviews_run_up_to_the_last_placement_day() {
        let dates = planned_reviews(date(2029, 1, 10), 6, date(2030, 5, 31));
        assert_eq!(
            dates,
            [date(2029, 1, 10), date(2029, 7, 10), date(2030, 1, 10)]
        );
        assert!(planned_reviews(date(2030, 6, 1), 6, date(2030, 5, 31)).is_empty());
        // Counted from the first date, not from the previous one: 31 August stays the end of the month.
        let ends = planned_reviews(date(2026, 8, 31), 6, date(2027, 9, 1));
        assert_eq!(
            ends,
            [date(2026, 8, 31), date(2027, 2, 28), date(2027, 8, 31)]
        );
    }

    #[test]
    fn a_start_within_three_months_of_the_application_keeps_the_rule() {
        let applied = date(2026, 1, 15);
        let kept = education_wait(applied, Some(date(2026, 4, 15)), 3, date(2026, 5, 1));
        assert_eq!(kept.start_due_by, date(2026, 4, 15));
        assert_eq!(kept.waiting_days, 90);
        assert!(!kept.waiting && !kept.breach);
        let late = education_wait(applied, Some(date(2026, 4, 16)), 3, date(2026, 5, 1));
        assert!(late.breach);
        assert_eq!(late.waiting_days, 91);
    }

    #[test]
    fn waiting_past_the_three_months_without_a_start_is_a_breach() {
        let applied = date(2025, 11, 30);
        let waiting = education_wait(applied, None, 3, date(2026, 2, 28));
        assert_eq!(waiting.start_due_by, date(2026, 2, 28));
        assert!(waiting.waiting && !waiting.breach);
        assert_eq!(waiting.waiting_days, 90);
        let over = education_wait(applied, None, 3, date(2026, 3, 1));
        assert!(over.breach);
        // A start set for later than the deadline is a breach already.
        let planned_late = education_wait(applied, Some(date(2026, 3, 5)), 3, date(2026, 1, 10));
        assert!(planned_late.breach && planned_late.waiting);
        assert_eq!(planned_late.waiting_days, 41);
    }
}
