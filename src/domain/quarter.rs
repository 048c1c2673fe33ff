//! A calendar quarter, as state reimbursement claims are made: `2026-Q3` is 1 July to
//! 30 September 2026.

use std::fmt;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: i32,
    /// 1 to 4.
    number: u32,
}

impl Quarter {
    /// The quarter `day` falls in.
    pub fn of(day: NaiveDate) -> Self {
        Self {
            year: day.year(),
            number: day.month0() / 3 + 1,
        }
    }

    /// `YYYY-Qn` with a year from 2000 to 2100.
    pub fn parse(text: &str) -> Option<Self> {
        let (year, number) = text.split_once("-Q")?;
        if year.len() != 4 || number.len() != 1 {
            return None;
        }
        let year: i32 = year.parse().ok()?;
        let number: u32 = number.parse().ok()?;
        ((2000..=2100).contains(&year) && (1..=4).contains(&number))
            .then_some(Self { year, number })
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.number - 1) * 3 + 1, 1)
            .expect("the first day of a quarter of a year from 2000 to 2100 exists")
    }

    pub fn last_day(self) -> NaiveDate {
        self.next()
            .first_day()
            .pred_opt()
            .expect("a quarter has days")
    }

    pub fn next(self) -> Self {
        if self.number == 4 {
            Self {
                year: self.year + 1,
                number: 1,
            }
        } else {
            Self {
                year: self.year,
                number: self.number + 1,
            }
        }
    }

    pub fn previous(self) -> Self {
        if self.number == 1 {
            Self {
                year: self.year - 1,
                number: 4,
            }
        } else {
            Self {
                year: self.year,
                number: self.number - 1,
            }
        }
    }

    /// The last day of the month `months` after the quarter's last month: with six months,
    /// 31 March for the third quarter.
    pub fn deadline(self, months: u32) -> NaiveDate {
        let after = self.next().first_day() + Months::new(months);
        after.pred_opt().expect("a month has days")
    }

    pub fn contains(self, day: NaiveDate) -> bool {
        Self::of(day) == self
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}

impl Serialize for Quarter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quarter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("a quarter such as 2026-Q3"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_quarter_has_its_three_months_and_its_name() {
        let q3 = Quarter::parse("2026-Q3").unwrap();
        assert_eq!(
            (q3.first_day(), q3.last_day()),
            (day(2026, 7, 1), day(2026, 9, 30))
        );
        assert_eq!(q3.to_string(), "2026-Q3");
        let q4 = Quarter::of(day(2026, 12, 31));
        assert_eq!(
            (q4.first_day(), q4.last_day()),
            (day(2026, 10, 1), day(2026, 12, 31))
        );
        assert_eq!(q4.next().to_string(), "2027-Q1");
        assert_eq!(Quarter::parse("2027-Q1").unwrap().previous(), q4);
        assert!(q3.contains(day(2026, 8, 15)) && !q3.contains(day(2026, 10, 1)));
    }

    #[test]
    fn the_deadline_is_the_end_of_the_sixth_month_after_the_quarter() {
        let deadline = |q: &str| Quarter::parse(q).unwrap().deadline(6);
        assert_eq!(deadline("2026-Q3"), day(2027, 3, 31));
        assert_eq!(deadline("2026-Q2"), day(2026, 12, 31));
        assert_eq!(deadline("2026-Q4"), day(2027, 6, 30));
        assert_eq!(deadline("2027-Q1"), day(2027, 9, 30));
    }

    #[test]
    fn only_a_real_quarter_parses() {
        for bad in [
            "2026-Q0",
            "2026-Q5",
            "2026Q3",
            "26-Q3",
            "2026-Q33",
            "1999-Q1",
            "",
            "2026-q3",
            "２０２６-Q1",
        ] {
            assert_eq!(Quarter::parse(bad), None, "{bad}");
        }
    }
}
