//! Ages and birthdays, which drive the placement rules: supported housing from the 16th
//! birthday, guardianship (särskilt förordnad vårdnadshavare / god man) ending at 18, and
//! placements ending by the 21st birthday.
//!
//! Everything here is a pure function of dates, so the rules built on it can be tested on any day
//! of any year without a clock. There is exactly one definition of "the day someone turns N"
//! ([`birthday`]); [`age_on`] and [`day_before_birthday`] are derived from it, so a rule written
//! with one of them can never disagree with a rule written with another.
//!
//! # People born on 29 February
//!
//! In a year without 29 February, such a person turns a year older on **1 March**: on
//! 28 February they have not yet lived the full number of years. This is a product decision,
//! kept in this one place. Note for whoever owns the rules: lag (1930:173) om beräkning av
//! lagstadgad tid, 1 §, ends a period counted in years on the last day of the month when the
//! corresponding day is missing, which would point to 28 February instead. If the legal reading
//! is that this law governs when an age is reached, change [`birthday`] (and its tests) and
//! everything else follows.

use chrono::{Datelike, NaiveDate};

/// The date on which someone born on `date_of_birth` turns `years` old.
///
/// `birthday(dob, 0)` is `dob`. For someone born on 29 February, in a target year that is not a
/// leap year the birthday is 1 March (see the module documentation for why).
///
/// # Panics
///
/// If the result is outside the dates chrono can represent (hundreds of thousands of years
/// away), which no real person or rule can reach.
pub fn birthday(date_of_birth: NaiveDate, years: u32) -> NaiveDate {
    let year = i32::try_from(years)
        .ok()
        .and_then(|years| date_of_birth.year().checked_add(years))
        .expect("birthday year is within the range of i32");
    let (month, day) = (date_of_birth.month(), date_of_birth.day());
    NaiveDate::from_ymd_opt(year, month, day)
        .or_else(|| {
            // Only 29 February can be missing from the target year; the person has not lived the
            // full years until the day after 28 February.
            debug_assert!(month == 2 && day == 29);
            NaiveDate::from_ymd_opt(year, 3, 1)
        })
        .expect("birthday is within the range of dates chrono can represent")
}

/// The age in whole years, on the date `on`, of someone born on `date_of_birth`.
///
/// Consistent with [`birthday`]: on `birthday(dob, n)` the age is `n`, and on the day before it
/// is `n - 1`. A person is 0 on the day they are born; a date before the birth also gives 0
/// (the type cannot say "not yet born", so callers that can get such dates must reject them at
/// the boundary, where the date of birth is parsed).
pub fn age_on(date_of_birth: NaiveDate, on: NaiveDate) -> u32 {
    if on < date_of_birth {
        return 0;
    }
    // `on >= date_of_birth`, so the difference of years is not negative.
    let mut years = u32::try_from(on.year() - date_of_birth.year())
        .expect("a date on or after the birth is in the same or a later year");
    if birthday(date_of_birth, years) > on {
        years -= 1;
    }
    years
}

/// The last day on which someone born on `date_of_birth` is still younger than `years`: the day
/// before [`birthday`].
///
/// Rules that end *before* a birthday are written with this, so the off-by-one lives here only:
/// the last allowed placement day is `day_before_birthday(dob, 21)`, the last day of guardianship
/// is `day_before_birthday(dob, 18)`.
///
/// # Panics
///
/// Like [`birthday`], only for dates chrono cannot represent.
pub fn day_before_birthday(date_of_birth: NaiveDate, years: u32) -> NaiveDate {
    birthday(date_of_birth, years)
        .pred_opt()
        .expect("the day before a birthday is within the range of dates chrono can represent")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("test date is valid")
    }

    /// Every day from `first` to `last`, both included.
    fn days(first: NaiveDate, last: NaiveDate) -> impl Iterator<Item = NaiveDate> {
        first.iter_days().take_while(move |day| *day <= last)
    }

    /// An age computed differently from the code under test: whole years, minus one if this
    /// year's (month, day) has not yet reached the birth's (month, day). Comparing the pair
    /// (2, 28) < (2, 29) means a 29 February birth has not had its birthday on 28 February, and
    /// (3, 1) > (2, 29) means it has on 1 March: exactly the documented rule.
    fn reference_age(dob: NaiveDate, on: NaiveDate) -> u32 {
        let not_yet = (on.month(), on.day()) < (dob.month(), dob.day());
        (on.year() - dob.year() - i32::from(not_yet)) as u32
    }

    #[test]
    fn ordinary_birthday_is_same_month_and_day() {
        assert_eq!(birthday(date(2009, 5, 17), 16), date(2025, 5, 17));
        assert_eq!(birthday(date(2009, 5, 17), 0), date(2009, 5, 17));
    }

    #[test]
    fn leap_day_birth_turns_older_on_first_of_march_in_common_years() {
        let dob = date(2008, 2, 29);
        assert_eq!(birthday(dob, 18), date(2026, 3, 1));
        assert_eq!(birthday(dob, 21), date(2029, 3, 1));
        assert_eq!(day_before_birthday(dob, 18), date(2026, 2, 28));
        assert_eq!(age_on(dob, date(2026, 2, 28)), 17);
        assert_eq!(age_on(dob, date(2026, 3, 1)), 18);
    }

    #[test]
    fn leap_day_birth_keeps_leap_day_in_leap_years() {
        let dob = date(2008, 2, 29);
        assert_eq!(birthday(dob, 16), date(2024, 2, 29));
        assert_eq!(age_on(dob, date(2024, 2, 28)), 15);
        assert_eq!(age_on(dob, date(2024, 2, 29)), 16);
        // 2100 is not a leap year (divisible by 100, not by 400); 2000 was.
        assert_eq!(birthday(date(2096, 2, 29), 4), date(2100, 3, 1));
        assert_eq!(birthday(date(1996, 2, 29), 4), date(2000, 2, 29));
    }

    #[test]
    fn birth_on_first_of_march_is_not_affected_by_leap_years() {
        let dob = date(2007, 3, 1);
        assert_eq!(birthday(dob, 1), date(2008, 3, 1));
        assert_eq!(age_on(dob, date(2008, 2, 29)), 0);
        assert_eq!(age_on(dob, date(2008, 3, 1)), 1);
    }

    #[test]
    fn year_boundaries() {
        let new_years_eve = date(2007, 12, 31);
        assert_eq!(age_on(new_years_eve, date(2025, 12, 30)), 17);
        assert_eq!(age_on(new_years_eve, date(2025, 12, 31)), 18);
        assert_eq!(age_on(new_years_eve, date(2026, 1, 1)), 18);

        let new_years_day = date(2008, 1, 1);
        assert_eq!(day_before_birthday(new_years_day, 18), date(2025, 12, 31));
        assert_eq!(age_on(new_years_day, date(2025, 12, 31)), 17);
        assert_eq!(age_on(new_years_day, date(2026, 1, 1)), 18);
    }

    #[test]
    fn placement_and_guardianship_limits() {
        let dob = date(2006, 9, 10);
        assert_eq!(day_before_birthday(dob, 21), date(2027, 9, 9));
        assert_eq!(day_before_birthday(dob, 18), date(2024, 9, 9));
        assert_eq!(birthday(dob, 16), date(2022, 9, 10));
    }

    #[test]
    fn age_is_zero_on_the_day_of_birth_and_before_it() {
        let dob = date(2010, 6, 1);
        assert_eq!(age_on(dob, dob), 0);
        assert_eq!(age_on(dob, date(2010, 5, 31)), 0);
        assert_eq!(age_on(dob, date(2011, 5, 31)), 0);
        assert_eq!(age_on(dob, date(2011, 6, 1)), 1);
    }

    /// For every date of birth over several years (two of them leap years, and the turn of a
    /// century), the birthday, the day before it and the age agree at the ages the rules use.
    #[test]
    fn birthday_age_and_day_before_agree_for_every_date_of_birth() {
        for dob in days(date(1999, 1, 1), date(2004, 12, 31)) {
            for years in [1, 4, 16, 18, 21, 100] {
                let turns = birthday(dob, years);
                let before = day_before_birthday(dob, years);
                assert_eq!(
                    age_on(dob, turns),
                    years,
                    "dob {dob}, turns {years} on {turns}"
                );
                assert_eq!(
                    age_on(dob, before),
                    years - 1,
                    "dob {dob}, day before {before}"
                );
                assert_eq!(before.succ_opt(), Some(turns), "dob {dob}, years {years}");
                assert_eq!(turns.year(), dob.year() + years as i32, "dob {dob}");
            }
        }
    }

    /// Day by day over 25 years, the age matches an independent computation, never goes down,
    /// grows by at most one a day, and grows exactly on the day [`birthday`] names.
    #[test]
    fn age_matches_reference_every_day_and_grows_only_on_birthdays() {
        let births = [
            date(2000, 2, 29),
            date(2003, 2, 28),
            date(2003, 3, 1),
            date(2004, 2, 29),
            date(2004, 12, 31),
            date(2005, 1, 1),
            date(2005, 7, 15),
        ];
        for dob in births {
            let mut previous = age_on(dob, dob);
            assert_eq!(previous, 0);
            for on in days(dob.succ_opt().unwrap(), date(2030, 12, 31)) {
                let age = age_on(dob, on);
                assert_eq!(age, reference_age(dob, on), "dob {dob}, on {on}");
                if age == previous + 1 {
                    assert_eq!(on, birthday(dob, age), "dob {dob}: grew on {on}");
                } else {
                    assert_eq!(age, previous, "dob {dob}: jumped on {on}");
                }
                previous = age;
            }
        }
    }
}
