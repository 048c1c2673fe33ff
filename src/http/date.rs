//! Dates and instants a client sends, read strictly: a date is RFC 3339's `full-date`, exactly
//! `YYYY-MM-DD` (the spec's `format: date`), an instant RFC 3339's `date-time`. chrono's own
//! `Deserialize` takes `2026-1-5`, ` 2026-01-05`, `+2026-01-05` and `-0001-01-01` as well,
//! which the spec calls invalid.
//!
//! On a field: `#[serde(with = "crate::http::date")]` for a `NaiveDate`,
//! `#[serde(default, with = "crate::http::date::option")]` for an `Option<NaiveDate>` (absent
//! or `null` is `None`), `#[serde(default, with = "crate::http::date::double_option")]` for a
//! merge-patch `Option<Option<NaiveDate>>` (absent, `null`, a day; see `http::double_option`),
//! and `#[serde(with = "crate::http::date::instant")]` for a `DateTime<Utc>`.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{de, Deserialize, Deserializer};

/// Why a value is no date or no instant; the message follows the field's name in a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// Not `YYYY-MM-DD` with a year from 0001 to 9999.
    Format,
    /// `YYYY-MM-DD`, but no day of the calendar (`2026-02-29`, `2026-13-01`).
    NoSuchDay,
    /// Not an RFC 3339 `date-time`.
    Instant,
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Format => "is not a date YYYY-MM-DD, e.g. 2026-03-01",
            Self::NoSuchDay => "is not a day of the calendar",
            Self::Instant => "is not an RFC 3339 instant, e.g. 2026-03-01T00:00:00Z",
        })
    }
}

impl std::error::Error for DateError {}

/// A `full-date`: ten characters `YYYY-MM-DD`, ASCII digits, year 0001 to 9999, a real day.
pub fn parse(value: &str) -> Result<NaiveDate, DateError> {
    let bytes = value.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return Err(DateError::Format);
    }
    let number = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .fold(0u32, |n, digit| n * 10 + u32::from(digit - b'0'))
    };
    let year = number(0..4);
    if year == 0 {
        return Err(DateError::Format);
    }
    // `year` is at most 9999, so it fits an i32.
    NaiveDate::from_ymd_opt(year as i32, number(5..7), number(8..10)).ok_or(DateError::NoSuchDay)
}

/// A `date-time`: a strict `full-date`, `T` (or `t`), the time with seconds, and `Z` or an
/// offset `±hh:mm`; in UTC.
pub fn parse_instant(value: &str) -> Result<DateTime<Utc>, DateError> {
    let date = value.get(..10).ok_or(DateError::Instant)?;
    parse(date).map_err(|_| DateError::Instant)?;
    // chrono's RFC 3339 parser also takes a space between date and time, which the grammar
    // does not.
    if !matches!(value.as_bytes().get(10), Some(b'T' | b't')) {
        return Err(DateError::Instant);
    }
    DateTime::parse_from_rfc3339(value)
        .map(|instant| instant.with_timezone(&Utc))
        .map_err(|_| DateError::Instant)
}

fn date_of<'de, D: Deserializer<'de>>(value: &str) -> Result<NaiveDate, D::Error> {
    parse(value).map_err(de::Error::custom)
}

/// `#[serde(with = "crate::http::date")]` on a `NaiveDate`.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    let value = String::deserialize(deserializer)?;
    date_of::<D>(&value)
}

/// `#[serde(default, with = "crate::http::date::option")]` on an `Option<NaiveDate>`.
pub mod option {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<NaiveDate>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(value) => date_of::<D>(&value).map(Some),
            None => Ok(None),
        }
    }
}

/// `#[serde(default, with = "crate::http::date::double_option")]` on a merge-patch
/// `Option<Option<NaiveDate>>`: absent `None`, `null` `Some(None)`, a day `Some(Some(day))`.
pub mod double_option {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<NaiveDate>>, D::Error> {
        super::option::deserialize(deserializer).map(Some)
    }
}

/// `#[serde(with = "crate::http::date::instant")]` on a `DateTime<Utc>`.
pub mod instant {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let value = String::deserialize(deserializer)?;
        parse_instant(&value).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn exactly_yyyy_mm_dd_is_a_date() {
        assert_eq!(parse("2026-01-05"), Ok(day(2026, 1, 5)));
        assert_eq!(parse("0001-01-01"), Ok(day(1, 1, 1)));
        assert_eq!(parse("9999-12-31"), Ok(day(9999, 12, 31)));
    }

    #[test]
    fn what_chrono_would_take_besides_is_refused() {
        for odd in [
            "2026-1-5",
            "2026 -01- 05",
            " 2026-01-05",
            "+2026-01-05",
            "2026-01-05 ",
            "2026-01-5",
            "-0001-01-01",
            "0000-01-01",
            "+026-01-05",
            "2026-01-0\u{665}",
            "20260-01-05",
            "2026/01/05",
            "2026-01-05T00:00:00Z",
            "",
        ] {
            assert_eq!(parse(odd), Err(DateError::Format), "{odd:?}");
        }
    }

    #[test]
    fn a_day_must_be_on_the_calendar_leap_days_included() {
        assert_eq!(parse("2024-02-29"), Ok(day(2024, 2, 29)));
        assert_eq!(parse("2000-02-29"), Ok(day(2000, 2, 29)));
        for none in [
            "2026-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
        ] {
            assert_eq!(parse(none), Err(DateError::NoSuchDay), "{none:?}");
        }
    }

    #[test]
    fn an_instant_is_rfc_3339_and_nothing_looser() {
        let eight = day(2026, 1, 5).and_hms_opt(8, 0, 0).unwrap().and_utc();
        assert_eq!(parse_instant("2026-01-05T08:00:00Z"), Ok(eight));
        assert_eq!(parse_instant("2026-01-05t08:00:00z"), Ok(eight));
        assert_eq!(parse_instant("2026-01-05T09:00:00+01:00"), Ok(eight));
        assert!(parse_instant("2026-01-05T08:00:00.25Z").is_ok());
        for odd in [
            " 2026-01-05T08:00:00Z",
            "2026-1-5T08:00:00Z",
            "+2026-01-05T08:00:00Z",
            "2026-01-05 08:00:00Z",
            "2026-01-05T8:00:00Z",
            "2026-01-05T08:00:00Z ",
            "2026-01-05T08:00:00 Z",
            "2026-01-05T08:00:00+0100",
            "2026-01-05T08:00:00",
            "2026-02-29T08:00:00Z",
            "2026-01-05",
        ] {
            assert_eq!(parse_instant(odd), Err(DateError::Instant), "{odd:?}");
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct Body {
        #[serde(with = "super")]
        on: NaiveDate,
        #[serde(default, with = "super::option")]
        until: Option<NaiveDate>,
        #[serde(default, with = "super::double_option")]
        ended: Option<Option<NaiveDate>>,
    }

    #[derive(Debug, serde::Deserialize)]
    struct Visit {
        #[serde(with = "super::instant")]
        at: DateTime<Utc>,
    }

    #[test]
    fn the_serde_helpers_read_absent_null_and_a_day() {
        let read = |json: &str| serde_json::from_str::<Body>(json);
        let body = read(r#"{"on": "2026-01-05"}"#).unwrap();
        assert_eq!(
            (body.on, body.until, body.ended),
            (day(2026, 1, 5), None, None)
        );
        let body = read(r#"{"on": "2026-01-05", "until": null, "ended": null}"#).unwrap();
        assert_eq!((body.until, body.ended), (None, Some(None)));
        let body =
            read(r#"{"on": "2026-01-05", "until": "2026-02-01", "ended": "2026-03-01"}"#).unwrap();
        assert_eq!(body.until, Some(day(2026, 2, 1)));
        assert_eq!(body.ended, Some(Some(day(2026, 3, 1))));
        for bad in [
            r#"{"on": "2026-1-5"}"#,
            r#"{"on": "2026-01-05", "until": " 2026-01-05"}"#,
            r#"{"on": "2026-01-05", "ended": "2026-01-5"}"#,
            r#"{"on": 20260105}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        let visit = |json: &str| serde_json::from_str::<Visit>(json).map(|visit| visit.at);
        assert_eq!(
            visit(r#"{"at": "2026-01-05T08:00:00Z"}"#).unwrap(),
            day(2026, 1, 5).and_hms_opt(8, 0, 0).unwrap().and_utc()
        );
        assert!(visit(r#"{"at": "2026-1-5T08:00:00Z"}"#).is_err());
        assert!(visit(r#"{"at": " 2026-01-05T08:00:00Z"}"#).is_err());
    }
}
