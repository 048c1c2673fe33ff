//! `PersonalIdentityNumber::parse` over arbitrary text and an arbitrary "today".
//!
//! Besides never panicking: a number that parses has a 13-character canonical form
//! `YYYYMMDD-NNNN` that parses again to the same number (also without the hyphen, and in the
//! 10/11-character forms when they name the same century), its date of birth is not after
//! today nor before 1800, `Debug` hides the last four digits, and any other check digit is
//! refused.
#![no_main]

use chrono::{Datelike, Duration, NaiveDate};
use libfuzzer_sys::fuzz_target;
use trygg::domain::personal_identity_number::{IdentityNumberError, PersonalIdentityNumber};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    // Today: any day from 1 January 1900 to about 2079.
    let offset = i64::from(u16::from_le_bytes([data[0], data[1]]));
    let today = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + Duration::days(offset);
    let Ok(text) = std::str::from_utf8(&data[2..]) else {
        return;
    };
    let Ok(number) = PersonalIdentityNumber::parse(text, today) else {
        return;
    };

    let canonical = number.as_str().to_owned();
    let bytes = canonical.as_bytes();
    assert_eq!(bytes.len(), 13, "canonical {canonical:?}");
    assert_eq!(bytes[8], b'-');
    assert!(bytes
        .iter()
        .enumerate()
        .all(|(i, b)| i == 8 || b.is_ascii_digit()));
    assert_eq!(number.to_string(), canonical);
    assert_eq!(
        format!("{number:?}"),
        format!("PersonalIdentityNumber({}-****)", &canonical[..8])
    );

    let born = number.date_of_birth();
    assert!(born <= today, "born {born} after today {today}");
    assert!(born.year() >= 1800);
    assert_eq!(born.year().to_string(), canonical[..4].to_string());
    let number_day: u32 = canonical[6..8].parse().unwrap();
    assert_eq!(number.is_coordination_number(), number_day > 60);
    assert_eq!(
        born.day() + if number_day > 60 { 60 } else { 0 },
        number_day
    );
    assert_ne!(&canonical[9..12], "000");

    let again = |form: &str| {
        PersonalIdentityNumber::parse(form, today)
            .unwrap_or_else(|e| panic!("{form:?} (from {canonical:?}) refused: {e}"))
    };
    assert_eq!(again(&canonical), number);
    assert_eq!(again(&canonical.replace('-', "")), number);

    // The two-digit-year forms name the same person while the century they infer is right.
    let (yymmdd, nnnn) = (&canonical[2..8], &canonical[9..]);
    let (y, m, d) = (born.year(), born.month(), born.day());
    if (y + 100, m, d) > (today.year(), today.month(), today.day()) {
        assert_eq!(again(&format!("{yymmdd}-{nnnn}")), number);
        assert_eq!(again(&format!("{yymmdd}{nnnn}")), number);
    }
    if (0..100).contains(&(today.year() - 100 - y)) {
        assert_eq!(again(&format!("{yymmdd}+{nnnn}")), number);
    }

    // Every other check digit is a typing error.
    for c in b'0'..=b'9' {
        if c == bytes[12] {
            continue;
        }
        let mut typo = canonical.clone().into_bytes();
        typo[12] = c;
        let typo = String::from_utf8(typo).unwrap();
        assert_eq!(
            PersonalIdentityNumber::parse(&typo, today),
            Err(IdentityNumberError::WrongCheckDigit)
        );
    }
});
