//! When a schedule's next contact is due, and whether it is overdue: pure, from the schedule
//! and the last contact that counts for it. Dates are the municipality's (Europe/Stockholm).

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::domain::recurrence::Recurrence;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Due {
    pub due_on: NaiveDate,
    /// The last day a contact is still on time (due plus the tolerance).
    pub late_after: NaiveDate,
    pub overdue: bool,
}

/// What a schedule is, for its due date.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub recurrence: Recurrence,
    pub tolerance_days: i32,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

/// The next contact due: one period after the last that counts for the schedule, or after its
/// start; `None` once the schedule has ended or while it has not begun.
pub fn next_due(
    schedule: &Schedule,
    last_contact: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<Due> {
    if schedule.end_date.is_some_and(|end| end < today) || schedule.start_date > today {
        return None;
    }
    let from = last_contact.map_or(schedule.start_date, |last| last.max(schedule.start_date));
    let due_on = schedule.recurrence.next_after(from);
    if schedule.end_date.is_some_and(|end| due_on > end) {
        return None;
    }
    let late_after = due_on + Duration::days(i64::from(schedule.tolerance_days));
    Some(Due {
        due_on,
        late_after,
        overdue: today > late_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn quarterly() -> Schedule {
        Schedule {
            recurrence: Recurrence::parse("1 per quarter").unwrap(),
            tolerance_days: 14,
            start_date: day("2026-01-10"),
            end_date: None,
        }
    }

    #[test]
    fn a_contact_is_due_a_period_after_the_start_and_late_after_the_tolerance() {
        let due = next_due(&quarterly(), None, day("2026-04-20")).unwrap();
        assert_eq!(
            (due.due_on, due.late_after, due.overdue),
            (day("2026-04-10"), day("2026-04-24"), false)
        );
        assert!(
            next_due(&quarterly(), None, day("2026-04-25"))
                .unwrap()
                .overdue
        );
    }

    #[test]
    fn a_contact_moves_the_next_due_date_and_ends_the_overdue() {
        let due = next_due(&quarterly(), Some(day("2026-04-30")), day("2026-05-01")).unwrap();
        assert_eq!((due.due_on, due.overdue), (day("2026-07-30"), false));
    }

    #[test]
    fn an_ended_or_future_schedule_has_nothing_due() {
        let mut ended = quarterly();
        ended.end_date = Some(day("2026-03-01"));
        assert_eq!(next_due(&ended, None, day("2026-03-02")), None);
        assert_eq!(next_due(&quarterly(), None, day("2026-01-01")), None);
    }
}
