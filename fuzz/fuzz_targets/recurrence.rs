//! `Recurrence::parse` over arbitrary text (contact schedules' rates, from the API and the
//! rules file).
//!
//! Besides never panicking: an accepted rate prints as a text that parses to the same rate (one
//! rate, one spelling), and its next due date after any day is later than that day.
#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use trygg::domain::recurrence::Recurrence;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rate) = Recurrence::parse(text) {
        let printed = rate.to_string();
        assert_eq!(Recurrence::parse(&printed), Ok(rate), "{printed:?}");
        for day in [
            NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
            NaiveDate::from_ymd_opt(2028, 2, 29).unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        ] {
            assert!(rate.next_after(day) > day, "{printed:?} after {day}");
        }
    }
});
