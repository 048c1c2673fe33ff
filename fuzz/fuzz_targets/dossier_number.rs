//! `DossierNumber::parse` over arbitrary text.
//!
//! Besides never panicking: an accepted number is 4 to 10 ASCII digits, exactly the digits of
//! the input in order, it parses again to itself, and `Debug` shows none of it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trygg::domain::dossier_number::{DossierNumber, DossierNumberError};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match DossierNumber::parse(text) {
        Ok(number) => {
            let canonical = number.as_str();
            assert!((4..=10).contains(&canonical.len()));
            assert!(canonical.bytes().all(|b| b.is_ascii_digit()));
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            assert_eq!(canonical, digits);
            // Only digits, single spaces and one hyphen between them, around the trimmed text.
            assert!(text
                .trim()
                .chars()
                .all(|c| c.is_ascii_digit() || c == ' ' || c == '-'));
            assert!(text.trim().matches('-').count() <= 1);
            assert!(!text.trim().contains("  "));
            assert_eq!(DossierNumber::parse(canonical), Ok(number.clone()));
            assert_eq!(number.to_string(), canonical);
            assert_eq!(format!("{number:?}"), "DossierNumber(<redacted>)");
        }
        Err(DossierNumberError::WrongLength { digits }) => {
            assert!(!(4..=10).contains(&digits));
            assert_eq!(digits, text.chars().filter(char::is_ascii_digit).count());
        }
        Err(DossierNumberError::InvalidFormat) => {}
    }
});
