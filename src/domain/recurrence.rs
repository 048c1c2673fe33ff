//! How often a contact is due: every N days, or N times a week, a month or a quarter. Written as
//! people say it (`every 14 days`, `2 per week`, `1 per quarter`), in the rules file and the API
//! alike, parsed once here.

use std::fmt;

use chrono::{Duration, Months, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Week,
    Month,
    Quarter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recurrence {
    /// Every `n` days (1 to 366).
    EveryDays(u32),
    /// `n` times a period (1 to 7 a week, 1 to 31 a month, 1 to 92 a quarter).
    Times(u32, Period),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("write `every N days` (N 1 to 366) or `N per week|month|quarter`")]
pub struct RecurrenceError;

impl Recurrence {
    pub fn parse(text: &str) -> Result<Self, RecurrenceError> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let number = |word: &str| -> Result<u32, RecurrenceError> {
            let plain = !word.starts_with('0') && word.bytes().all(|b| b.is_ascii_digit());
            if word.len() > 3 || !plain {
                return Err(RecurrenceError);
            }
            word.parse().map_err(|_| RecurrenceError)
        };
        let recurrence = match words.as_slice() {
            ["every", n, "days" | "day"] => Self::EveryDays(number(n)?),
            [n, "per", period] => {
                let period = match *period {
                    "week" => Period::Week,
                    "month" => Period::Month,
                    "quarter" => Period::Quarter,
                    _ => return Err(RecurrenceError),
                };
                Self::Times(number(n)?, period)
            }
            _ => return Err(RecurrenceError),
        };
        let in_range = match recurrence {
            Self::EveryDays(n) => (1..=366).contains(&n),
            Self::Times(n, Period::Week) => (1..=7).contains(&n),
            Self::Times(n, Period::Month) => (1..=31).contains(&n),
            Self::Times(n, Period::Quarter) => (1..=92).contains(&n),
        };
        if in_range {
            Ok(recurrence)
        } else {
            Err(RecurrenceError)
        }
    }

    /// When the next contact is due after one on `last`. Once a period is a calendar step (a
    /// month, a quarter: the 15th to the 15th); more often divides the period's days evenly,
    /// rounding down, so a contact is never due later than the rate says, and never sooner than
    /// the next day (`31 per month` and `92 per quarter` are daily).
    pub fn next_after(self, last: NaiveDate) -> NaiveDate {
        let days = |n: u32| last + Duration::days(i64::from(n.max(1)));
        match self {
            Self::EveryDays(n) => days(n),
            Self::Times(n, Period::Week) => days(7 / n),
            Self::Times(1, Period::Month) => {
                last.checked_add_months(Months::new(1)).unwrap_or(last)
            }
            Self::Times(n, Period::Month) => days(30 / n),
            Self::Times(1, Period::Quarter) => {
                last.checked_add_months(Months::new(3)).unwrap_or(last)
            }
            Self::Times(n, Period::Quarter) => days(91 / n),
        }
    }
}

impl fmt::Display for Recurrence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EveryDays(n) => write!(f, "every {n} days"),
            Self::Times(n, Period::Week) => write!(f, "{n} per week"),
            Self::Times(n, Period::Month) => write!(f, "{n} per month"),
            Self::Times(n, Period::Quarter) => write!(f, "{n} per quarter"),
        }
    }
}

impl serde::Serialize for Recurrence {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Recurrence {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn each_kind_parses_and_prints_the_same() {
        for text in [
            "every 14 days",
            "2 per week",
            "3 per month",
            "1 per quarter",
        ] {
            assert_eq!(Recurrence::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            Recurrence::parse(" every  1 day "),
            Ok(Recurrence::EveryDays(1))
        );
    }

    #[test]
    fn nonsense_and_impossible_rates_are_refused() {
        for text in [
            "",
            "every days",
            "every 0 days",
            "every 400 days",
            "8 per week",
            "0 per month",
            "2 per year",
            "two per week",
            "+2 per week",
            "1 per quarter please",
            "every 1e2 days",
        ] {
            assert_eq!(Recurrence::parse(text), Err(RecurrenceError), "{text}");
        }
    }

    #[test]
    fn every_rate_is_due_later_than_the_last_contact() {
        // Found by the `recurrence` fuzz target: "31 per month" and "92 per quarter" rounded
        // down to 0 days, due again the day of the contact.
        let last = day("2026-01-31");
        let rates = (1..=366)
            .map(|n| format!("every {n} days"))
            .chain((1..=7).map(|n| format!("{n} per week")))
            .chain((1..=31).map(|n| format!("{n} per month")))
            .chain((1..=92).map(|n| format!("{n} per quarter")));
        for text in rates {
            let rate = Recurrence::parse(&text).unwrap();
            assert!(rate.next_after(last) > last, "{text}");
        }
        assert_eq!(
            Recurrence::Times(31, Period::Month).next_after(last),
            day("2026-02-01")
        );
    }

    #[test]
    fn the_next_contact_is_due_after_the_period_or_its_share() {
        let last = day("2026-01-31");
        assert_eq!(
            Recurrence::EveryDays(14).next_after(last),
            day("2026-02-14")
        );
        assert_eq!(
            Recurrence::Times(2, Period::Week).next_after(last),
            day("2026-02-03")
        );
        assert_eq!(
            Recurrence::Times(3, Period::Week).next_after(last),
            day("2026-02-02")
        );
        assert_eq!(
            Recurrence::Times(1, Period::Month).next_after(last),
            day("2026-02-28")
        );
        assert_eq!(
            Recurrence::Times(1, Period::Quarter).next_after(day("2026-03-15")),
            day("2026-06-15")
        );
        assert_eq!(
            Recurrence::Times(2, Period::Quarter).next_after(last),
            day("2026-03-17")
        );
    }
}
