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

/// How a schedule's due contacts in a period went: the figures of contact compliance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Kept {
    /// Contacts that fell due in the period and can be judged: made, or past their tolerance.
    pub due: u32,
    /// Of those, the ones made by the last day of the tolerance (early ones count too).
    pub on_time: u32,
    /// Due in the period, not made yet, still within the tolerance: not judged.
    pub pending: u32,
}

/// Walks the schedule from its start: each contact is due one period after the last one made
/// (or, when a whole period passed without one, one period after the missed due date, so each
/// period misses at most once), and only due dates from `from` to `to` are counted. `contacts` are
/// the local dates of the contacts that count for the schedule, in any order. Nothing after
/// `today` is judged.
pub fn kept(
    schedule: &Schedule,
    contacts: &[NaiveDate],
    (from, to): (NaiveDate, NaiveDate),
    today: NaiveDate,
) -> Kept {
    let mut contacts = contacts.to_vec();
    contacts.sort_unstable();
    let last_day = [Some(to), Some(today), schedule.end_date]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(to);
    let mut kept = Kept::default();
    let mut since = schedule.start_date;
    let mut next = 0;
    loop {
        let due_on = schedule.recurrence.next_after(since);
        if due_on > last_day {
            return kept;
        }
        let late_after = due_on + Duration::days(i64::from(schedule.tolerance_days));
        while contacts.get(next).is_some_and(|&c| c <= since) {
            next += 1;
        }
        let counted = (from..=to).contains(&due_on);
        match contacts.get(next) {
            Some(&made) if made <= late_after => {
                if counted {
                    kept.due += 1;
                    kept.on_time += 1;
                }
                since = made;
            }
            _ if late_after >= today => {
                if counted {
                    kept.pending += 1;
                }
                return kept;
            }
            late => {
                if counted {
                    kept.due += 1;
                }
                // A late contact made before the next due date restarts the clock, as it
                // does for the worklist; without one, the next period is due in its turn.
                since = match late {
                    Some(&made) if made <= schedule.recurrence.next_after(due_on) => made,
                    _ => due_on,
                };
            }
        }
    }
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

    fn monthly_from_january() -> Schedule {
        Schedule {
            recurrence: Recurrence::parse("1 per month").unwrap(),
            tolerance_days: 7,
            start_date: day("2026-01-01"),
            end_date: None,
        }
    }

    #[test]
    fn a_quarter_of_monthly_contacts_counts_the_early_the_on_time_and_the_missed() {
        // Due 1 Feb (made 30 Jan, early), 28 Feb (made 5 Mar, within 7 days), 5 Apr (made
        // 20 Apr: late, and the clock restarts), 20 May (none by 20 June: missed), 20 Jun
        // (made 22 Jun). The quarter holds the last three.
        let contacts = [
            day("2026-01-30"),
            day("2026-03-05"),
            day("2026-04-20"),
            day("2026-06-22"),
        ];
        let quarter = (day("2026-04-01"), day("2026-06-30"));
        let kept = kept(
            &monthly_from_january(),
            &contacts,
            quarter,
            day("2026-07-15"),
        );
        assert_eq!(
            kept,
            Kept {
                due: 3,
                on_time: 1,
                pending: 0
            }
        );
    }

    #[test]
    fn a_contact_still_within_its_tolerance_is_not_judged() {
        let quarter = (day("2026-01-01"), day("2026-03-31"));
        let kept = kept(&monthly_from_january(), &[], quarter, day("2026-02-05"));
        assert_eq!(
            kept,
            Kept {
                due: 0,
                on_time: 0,
                pending: 1
            }
        );
    }

    #[test]
    fn nothing_is_due_after_the_schedule_ends() {
        let mut ended = monthly_from_january();
        ended.end_date = Some(day("2026-02-15"));
        let year = (day("2026-01-01"), day("2026-12-31"));
        let kept = kept(&ended, &[], year, day("2026-12-31"));
        assert_eq!(kept.due, 1, "only 1 February fell due: {kept:?}");
    }

    #[test]
    fn a_daily_rate_with_missed_contacts_is_walked_to_the_end() {
        // Found by the `recurrence` fuzz target: "31 per month" was due 30 / 31 = 0 days after
        // the last contact, so a missed one never moved the walk on and the report hung.
        for rate in ["31 per month", "92 per quarter"] {
            let daily = Schedule {
                recurrence: Recurrence::parse(rate).unwrap(),
                tolerance_days: 0,
                start_date: day("2026-01-01"),
                end_date: None,
            };
            let january = (day("2026-01-01"), day("2026-01-31"));
            let kept = kept(&daily, &[], january, day("2026-02-01"));
            assert_eq!(kept.due, 30, "{rate}: one a day, 2 to 31 January");
            assert_eq!(
                next_due(&daily, Some(day("2026-01-20")), day("2026-01-20"))
                    .unwrap()
                    .due_on,
                day("2026-01-21"),
                "{rate}"
            );
        }
    }
}
