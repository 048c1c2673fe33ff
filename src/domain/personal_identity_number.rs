//! Swedish personal identity numbers (personnummer) and coordination numbers
//! (samordningsnummer), parsed once at the boundary and trusted afterwards.
//!
//! # The number
//!
//! `YYMMDD-NNNC`: the date of birth, a three-digit birth number (001–999) and a check digit
//! computed with the Luhn algorithm over the nine digits before it (folkbokföringslagen 18 §).
//! A coordination number, given to people who are not and have not been registered in Sweden
//! (many children in our care have one before they get a personnummer), has 60 added to the day:
//! someone born on 3 October 1970 can have `701063-2391`.
//!
//! # Forms accepted by [`PersonalIdentityNumber::parse`]
//!
//! * `YYYYMMDD-NNNN` and `YYYYMMDDNNNN`: the century is written, nothing is inferred.
//! * `YYMMDD-NNNN` and `YYMMDDNNNN`: the century is inferred from `today` as the latest one that
//!   does not put the date of birth after today.
//! * `YYMMDD+NNNN`: the `+` replaces the hyphen from the year the person turns 100
//!   (folkbokföringslagen 18 §), so the birth year is the latest one ending in `YY` that is at
//!   least 100 years before today's year. The rule goes by year, not by birthday: on
//!   1 March 2025, `250601+NNNN` is someone born on 1 June 1925 (they turn 100 that year), not
//!   in 1825.
//!
//! The canonical form, used for display, serialization and storage, is `YYYYMMDD-NNNN` with the
//! number's own day (so a coordination number keeps its day + 60).
//!
//! # What is refused
//!
//! * Day 00 (60 in a coordination number): it is not a date, and we know no published rule that
//!   makes it valid, so it is refused rather than guessed at.
//! * Birth number 000, which is never issued.
//! * Dates of birth after `today`, and before 1800 (numbers are stored with century 18, 19 or
//!   20).
//!
//! The date in the number is the registered one. It can differ by a day or two from the real
//! date of birth (when a day's birth numbers ran out), and an age assessment can change a child's
//! registered date of birth and with it the number.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Serialize, Serializer};

/// Added to the day of birth in a coordination number.
const COORDINATION_DAY_OFFSET: u32 = 60;

/// The earliest year of birth accepted: numbers are stored with century 18, 19 or 20.
const EARLIEST_YEAR: i32 = 1800;

/// A checked Swedish personnummer or samordningsnummer.
///
/// It can only be made by [`PersonalIdentityNumber::parse`], so holding one means the format,
/// the date and the check digit were verified. It is personal data: [`fmt::Debug`] hides the
/// last four digits, while [`fmt::Display`] and serialization give it in full and belong in
/// responses to authorised users, never in logs (so never `tracing::info!(%number)`).
///
/// There is no `Deserialize`: a 10-digit form needs today's date to find its century, so request
/// bodies take a string and the handler calls `parse` with the app's clock, turning an error into
/// a field error.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonalIdentityNumber {
    /// `YYYYMMDD-NNNC`, always 13 ASCII characters.
    canonical: String,
    date_of_birth: NaiveDate,
    coordination: bool,
}

/// Why a text is not a valid personal identity number. The messages are written to be shown as
/// a field error and never contain the input, which is personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentityNumberError {
    /// Not one of the accepted forms (wrong length, letters, misplaced separator).
    #[error(
        "must be a personal identity number or coordination number written as YYYYMMDD-NNNN, \
         YYYYMMDDNNNN, YYMMDD-NNNN, YYMMDD+NNNN or YYMMDDNNNN"
    )]
    InvalidFormat,
    /// The first digits are not a date (after subtracting 60 from a coordination number's day).
    #[error("does not contain a valid date of birth")]
    InvalidDate,
    /// A valid date, but after today.
    #[error("has a date of birth in the future")]
    DateOfBirthInFuture,
    /// Birth number 000, which is never issued.
    #[error("has birth number 000, which is never issued")]
    InvalidBirthNumber,
    /// The last digit does not match the others: usually a typing error.
    #[error("has the wrong check digit; check it for a typing error")]
    WrongCheckDigit,
}

/// How the century is known or to be inferred.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Century {
    /// Written out: `YYYYMMDD…`.
    Written(i32),
    /// `YYMMDD-NNNN` or `YYMMDDNNNN`: the latest century that does not put the date of birth
    /// after today (a hyphen is for those under 100; without a separator we assume so too).
    Under100,
    /// `YYMMDD+NNNN`: the person turns 100 or more this year.
    Over100,
}

impl PersonalIdentityNumber {
    /// Parses a personnummer or samordningsnummer in any of the forms in the module
    /// documentation. `today` decides the century of 10-digit forms and refuses dates of birth
    /// after it; pass the date from the app's clock. Surrounding whitespace is ignored.
    pub fn parse(input: &str, today: NaiveDate) -> Result<Self, IdentityNumberError> {
        let input = input.trim();
        let bytes = input.as_bytes();
        // The digits after the century: YYMMDDNNNC.
        let (century, ten): (Century, [u8; 10]) = match bytes.len() {
            13 if bytes[8] == b'-' => {
                let century = digits::<2>(&bytes[..2])?;
                let rest = [&bytes[2..8], &bytes[9..]].concat();
                (Century::Written(number(&century)), digits::<10>(&rest)?)
            }
            12 => {
                let century = digits::<2>(&bytes[..2])?;
                (
                    Century::Written(number(&century)),
                    digits::<10>(&bytes[2..])?,
                )
            }
            11 => {
                let century = match bytes[6] {
                    b'-' => Century::Under100,
                    b'+' => Century::Over100,
                    _ => return Err(IdentityNumberError::InvalidFormat),
                };
                (century, digits::<10>(&[&bytes[..6], &bytes[7..]].concat())?)
            }
            10 => (Century::Under100, digits::<10>(bytes)?),
            _ => return Err(IdentityNumberError::InvalidFormat),
        };

        if ten[6..9] == [0, 0, 0] {
            return Err(IdentityNumberError::InvalidBirthNumber);
        }

        let yy = number(&ten[0..2]);
        let month = number(&ten[2..4]) as u32;
        let number_day = number(&ten[4..6]) as u32;
        let (day, coordination) = if number_day > COORDINATION_DAY_OFFSET {
            (number_day - COORDINATION_DAY_OFFSET, true)
        } else {
            (number_day, false)
        };
        // Day 00 (or 60) is refused here: `from_ymd_opt` rejects day 0.

        let year = match century {
            Century::Written(century) => century * 100 + yy,
            Century::Under100 => {
                let year = latest_year_ending_in(yy, today.year());
                if year == today.year() && (month, day) > (today.month(), today.day()) {
                    year - 100
                } else {
                    year
                }
            }
            Century::Over100 => latest_year_ending_in(yy, today.year() - 100),
        };

        let date_of_birth = NaiveDate::from_ymd_opt(year, month, day)
            .filter(|date| date.year() >= EARLIEST_YEAR)
            .ok_or(IdentityNumberError::InvalidDate)?;
        if date_of_birth > today {
            return Err(IdentityNumberError::DateOfBirthInFuture);
        }

        let nine: [u8; 9] = ten[..9].try_into().expect("nine of ten digits");
        if luhn_check_digit(&nine) != ten[9] {
            return Err(IdentityNumberError::WrongCheckDigit);
        }

        let canonical = format!(
            "{year:04}{month:02}{number_day:02}-{}",
            ten[6..]
                .iter()
                .map(|d| char::from(b'0' + d))
                .collect::<String>()
        );
        Ok(Self {
            canonical,
            date_of_birth,
            coordination,
        })
    }

    /// The date of birth in the number (for a coordination number, with 60 taken off the day).
    pub fn date_of_birth(&self) -> NaiveDate {
        self.date_of_birth
    }

    /// Whether this is a samordningsnummer (day + 60) rather than a personnummer.
    pub fn is_coordination_number(&self) -> bool {
        self.coordination
    }

    /// The canonical form, `YYYYMMDD-NNNN`.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }
}

impl fmt::Display for PersonalIdentityNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

/// Shows the date part and hides the last four digits (`PersonalIdentityNumber(20080229-****)`),
/// so a number inside a `{:?}` of a request, a row or an error never reaches the logs in full.
impl fmt::Debug for PersonalIdentityNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonalIdentityNumber({}-****)", &self.canonical[..8])
    }
}

impl Serialize for PersonalIdentityNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.canonical)
    }
}

/// The `N` ASCII digits in `bytes` as numbers 0–9, or a format error if there are not exactly `N`
/// or any is not an ASCII digit.
fn digits<const N: usize>(bytes: &[u8]) -> Result<[u8; N], IdentityNumberError> {
    let mut out = [0; N];
    if bytes.len() != N {
        return Err(IdentityNumberError::InvalidFormat);
    }
    for (slot, byte) in out.iter_mut().zip(bytes) {
        if !byte.is_ascii_digit() {
            return Err(IdentityNumberError::InvalidFormat);
        }
        *slot = byte - b'0';
    }
    Ok(out)
}

/// The decimal number written by `digits` (at most a few, so no overflow).
fn number(digits: &[u8]) -> i32 {
    digits.iter().fold(0, |n, d| n * 10 + i32::from(*d))
}

/// The latest year, not after `not_after`, whose last two digits are `yy`.
fn latest_year_ending_in(yy: i32, not_after: i32) -> i32 {
    not_after - (not_after - yy).rem_euclid(100)
}

/// The Luhn check digit for the nine digits `YYMMDDNNN`: weights 2, 1, 2, … from the left, the
/// digits of each product summed, and the check digit the amount that brings the sum to a
/// multiple of ten.
fn luhn_check_digit(nine: &[u8; 9]) -> u8 {
    let sum: u32 = nine
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let product = u32::from(*d) * if i % 2 == 0 { 2 } else { 1 };
            product / 10 + product % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("test date is valid")
    }

    /// A fixed "today" for the tests: 15 June 2025.
    fn today() -> NaiveDate {
        date(2025, 6, 15)
    }

    fn parse(input: &str) -> Result<PersonalIdentityNumber, IdentityNumberError> {
        PersonalIdentityNumber::parse(input, today())
    }

    fn valid(input: &str) -> PersonalIdentityNumber {
        parse(input).unwrap_or_else(|e| panic!("{input:?} should be valid: {e}"))
    }

    /// Appends the right check digit to nine digits, as `YYMMDD-NNNC`.
    fn with_check_digit(yymmdd: &str, nnn: &str) -> String {
        let nine: Vec<u8> = format!("{yymmdd}{nnn}").bytes().map(|b| b - b'0').collect();
        let c = luhn_check_digit(&nine.try_into().unwrap());
        format!("{yymmdd}-{nnn}{c}")
    }

    /// The textbook Luhn validity test, written independently of `luhn_check_digit`: from the
    /// right, every second digit doubled (minus 9 if over 9), and the total a multiple of ten.
    fn luhn_valid(ten_digits: &str) -> bool {
        let total: u32 = ten_digits
            .chars()
            .rev()
            .map(|c| c.to_digit(10).unwrap())
            .enumerate()
            .map(|(i, d)| match (i % 2 == 1, d * 2) {
                (false, _) => d,
                (true, doubled) if doubled > 9 => doubled - 9,
                (true, doubled) => doubled,
            })
            .sum();
        total % 10 == 0
    }

    #[test]
    fn known_numbers_have_the_right_check_digit() {
        // 811218-9876 is the well-known example; 701063-2391 is Skatteverket's coordination
        // number example.
        assert_eq!(luhn_check_digit(&[8, 1, 1, 2, 1, 8, 9, 8, 7]), 6);
        assert_eq!(luhn_check_digit(&[7, 0, 1, 0, 6, 3, 2, 3, 9]), 1);
        assert!(luhn_valid("8112189876"));
        assert!(!luhn_valid("8112189875"));
    }

    #[test]
    fn check_digit_agrees_with_textbook_luhn_for_many_numbers() {
        for n in 0..20_000u32 {
            let nine = format!("{:09}", n.wrapping_mul(48_271) % 1_000_000_000);
            let digits: Vec<u8> = nine.bytes().map(|b| b - b'0').collect();
            let c = luhn_check_digit(&digits.try_into().unwrap());
            assert!(luhn_valid(&format!("{nine}{c}")), "{nine}{c}");
            assert!(!luhn_valid(&format!("{nine}{}", (c + 1) % 10)), "{nine}");
        }
    }

    #[test]
    fn accepts_every_written_form_of_the_same_number() {
        for input in [
            "19811218-9876",
            "198112189876",
            "811218-9876",
            "8112189876",
            "  811218-9876\n",
        ] {
            let number = valid(input);
            assert_eq!(number.as_str(), "19811218-9876", "{input:?}");
            assert_eq!(number.date_of_birth(), date(1981, 12, 18), "{input:?}");
            assert!(!number.is_coordination_number());
        }
    }

    #[test]
    fn accepts_generated_numbers_for_every_day_of_several_years() {
        let mut day = date(1999, 1, 1);
        while day <= date(2008, 12, 31) {
            let yymmdd = day.format("%y%m%d").to_string();
            let input = with_check_digit(&yymmdd, "123");
            let number = valid(&input);
            assert_eq!(number.date_of_birth(), day, "{input}");
            assert_eq!(&number.as_str()[..8], day.format("%Y%m%d").to_string());
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn refuses_a_wrong_check_digit() {
        assert_eq!(
            parse("811218-9875"),
            Err(IdentityNumberError::WrongCheckDigit)
        );
        assert_eq!(
            parse("19811218-9870"),
            Err(IdentityNumberError::WrongCheckDigit)
        );
    }

    #[test]
    fn refuses_every_single_digit_typing_error() {
        let good = "8112189876";
        for position in 0..good.len() {
            for replacement in b'0'..=b'9' {
                let mut typo = good.as_bytes().to_vec();
                if typo[position] == replacement {
                    continue;
                }
                typo[position] = replacement;
                let typo = String::from_utf8(typo).unwrap();
                assert!(parse(&typo).is_err(), "{typo} should be refused");
            }
        }
    }

    #[test]
    fn refuses_invalid_dates_even_with_a_right_check_digit() {
        for (yymmdd, why) in [
            ("811318", "month 13"),
            ("810018", "month 00"),
            ("811232", "day 32"),
            ("811200", "day 00"),
            ("810230", "30 February"),
            ("810229", "29 February in a common year"),
            ("811250", "day 50, neither a day nor a coordination day"),
        ] {
            let input = with_check_digit(yymmdd, "987");
            assert_eq!(
                parse(&input),
                Err(IdentityNumberError::InvalidDate),
                "{why}"
            );
        }
        // 29 February is fine in a leap year.
        let leap = valid(&with_check_digit("080229", "987"));
        assert_eq!(leap.date_of_birth(), date(2008, 2, 29));
    }

    #[test]
    fn refuses_dates_of_birth_in_the_future_or_before_1800() {
        let tomorrow = format!("20250616{}", &with_check_digit("250616", "123")[7..]);
        assert_eq!(
            parse(&tomorrow),
            Err(IdentityNumberError::DateOfBirthInFuture)
        );
        let today = format!("20250615-{}", &with_check_digit("250615", "123")[7..]);
        assert_eq!(valid(&today).date_of_birth(), date(2025, 6, 15));
        let too_early = format!("17991218-{}", &with_check_digit("991218", "123")[7..]);
        assert_eq!(parse(&too_early), Err(IdentityNumberError::InvalidDate));
    }

    #[test]
    fn refuses_birth_number_000() {
        let input = with_check_digit("811218", "000");
        assert_eq!(parse(&input), Err(IdentityNumberError::InvalidBirthNumber));
    }

    #[test]
    fn accepts_coordination_numbers() {
        let number = valid("701063-2391");
        assert!(number.is_coordination_number());
        assert_eq!(number.date_of_birth(), date(1970, 10, 3));
        assert_eq!(number.as_str(), "19701063-2391");

        let last_day = valid(&with_check_digit("081291", "456"));
        assert!(last_day.is_coordination_number());
        assert_eq!(last_day.date_of_birth(), date(2008, 12, 31));

        let leap = valid(&with_check_digit("080289", "456"));
        assert_eq!(leap.date_of_birth(), date(2008, 2, 29));
    }

    #[test]
    fn refuses_coordination_numbers_with_invalid_dates() {
        for (yymmdd, why) in [
            ("081260", "day 60, that is day 00"),
            ("081292", "day 92, that is day 32"),
            ("080290", "30 February"),
            ("090289", "29 February in a common year"),
        ] {
            let input = with_check_digit(yymmdd, "456");
            assert_eq!(
                parse(&input),
                Err(IdentityNumberError::InvalidDate),
                "{why}"
            );
        }
    }

    #[test]
    fn ten_digit_forms_take_the_latest_century_not_after_today() {
        let born = |yymmdd: &str| valid(&with_check_digit(yymmdd, "123")).date_of_birth();
        assert_eq!(born("250615"), date(2025, 6, 15), "today itself");
        assert_eq!(born("250614"), date(2025, 6, 14));
        assert_eq!(
            born("250616"),
            date(1925, 6, 16),
            "tomorrow would be the future"
        );
        assert_eq!(born("000101"), date(2000, 1, 1));
        assert_eq!(born("991231"), date(1999, 12, 31));
        assert_eq!(born("260101"), date(1926, 1, 1));

        // Without a separator the same rule applies.
        let no_separator = with_check_digit("991231", "123").replace('-', "");
        assert_eq!(valid(&no_separator).date_of_birth(), date(1999, 12, 31));

        // The century depends on today: the same text, read in 1999, is 1925.
        let in_1999 =
            PersonalIdentityNumber::parse(&with_check_digit("250614", "123"), date(1999, 1, 1));
        assert_eq!(in_1999.unwrap().date_of_birth(), date(1925, 6, 14));
    }

    #[test]
    fn plus_means_turning_100_or_more_this_year() {
        let plus = |yymmdd: &str| with_check_digit(yymmdd, "123").replace('-', "+");
        let born = |yymmdd: &str| valid(&plus(yymmdd)).date_of_birth();
        assert_eq!(born("250614"), date(1925, 6, 14));
        // Turns 100 later this year, yet already written with `+` (the rule goes by year).
        assert_eq!(born("250616"), date(1925, 6, 16));
        assert_eq!(born("251231"), date(1925, 12, 31));
        // Born in 1926, they turn 99 this year, so `+` can only mean 1826.
        assert_eq!(born("260101"), date(1826, 1, 1));
        assert_eq!(&valid(&plus("811218")).as_str()[..8], "18811218");

        // The same person written with a hyphen is read as born in the later century.
        assert_eq!(
            valid(&with_check_digit("260101", "123")).date_of_birth(),
            date(1926, 1, 1)
        );
    }

    #[test]
    fn refuses_other_formats() {
        for input in [
            "",
            "811218",
            "81121-9876",
            "811218-98765",
            "811218 9876",
            "811218--9876",
            "811218/9876",
            "8112-18-9876",
            "19811218+9876",
            "1981121-89876",
            "811218-987X",
            "81121898766",
            "１９８１１２１８-９８７６",
            "811218\u{2011}9876",
        ] {
            assert_eq!(
                parse(input),
                Err(IdentityNumberError::InvalidFormat),
                "{input:?}"
            );
        }
    }

    #[test]
    fn display_and_serialize_give_the_canonical_form() {
        let number = valid("701063-2391");
        assert_eq!(number.to_string(), "19701063-2391");
        assert_eq!(serde_json::to_string(&number).unwrap(), "\"19701063-2391\"");
    }

    #[test]
    fn debug_masks_the_last_four_digits() {
        #[derive(Debug)]
        #[allow(dead_code)] // only read through Debug
        struct Child {
            identity_number: PersonalIdentityNumber,
        }
        let child = Child {
            identity_number: valid("811218-9876"),
        };
        let logged = format!("{child:?} {:#?}", child.identity_number);
        assert!(!logged.contains("9876"), "{logged}");
        assert!(
            logged.contains("PersonalIdentityNumber(19811218-****)"),
            "{logged}"
        );
    }

    #[test]
    fn error_messages_do_not_echo_the_input() {
        for input in ["811218-9875", "811318-9876", "81121x-9876"] {
            let message = parse(input).unwrap_err().to_string();
            assert!(!message.contains("9876"), "{message}");
            assert!(!message.contains("9875"), "{message}");
        }
    }

    #[test]
    fn equal_when_written_differently() {
        assert_eq!(valid("811218-9876"), valid("198112189876"));
        assert_ne!(valid("811218-9876"), valid("811218+9876"));
    }
}
