//! Migrationsverket's dossier number (dossiernummer), the Swedish Migration Agency's key for a
//! person's case. Social services copy it from the agency's letters to match a child with the
//! agency's decisions, so it must be stored in one form however it was typed.
//!
//! Accepted: 4 to 10 ASCII digits, optionally grouped by single spaces (`123 456 78`) and with at
//! most one hyphen, which must come before the last group of digits (`1234567-8`,
//! `123 4567-8`). The canonical form is the digits alone (`12345678`); leading zeros are kept,
//! because this is an identifier, not a quantity.
//!
//! The rules are deliberately strict about separators (no doubled spaces, no space next to the
//! hyphen, nothing but digits at either end) so that a mangled paste is refused instead of being
//! guessed at. Surrounding whitespace is trimmed.

use std::fmt;

use serde::{Serialize, Serializer};

const MIN_DIGITS: usize = 4;
const MAX_DIGITS: usize = 10;

/// A dossier number in canonical form: 4 to 10 digits, nothing else.
///
/// It can only be made by [`DossierNumber::parse`], so holding one means it was checked.
/// It identifies a person's asylum case, so [`fmt::Debug`] hides it; [`fmt::Display`] and
/// serialization give it in full and belong in responses to authorised users, never in logs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DossierNumber(String);

/// Why a text is not a dossier number. The messages are written to be shown as a field error and
/// never contain the input, which may be personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DossierNumberError {
    /// Something other than digits, single spaces between digit groups, and one hyphen before the
    /// last group.
    #[error(
        "must be digits, optionally grouped with single spaces and one hyphen before the last group"
    )]
    InvalidFormat,
    /// Well formed, but too few or too many digits.
    #[error("must have {MIN_DIGITS} to {MAX_DIGITS} digits, not {digits}")]
    WrongLength { digits: usize },
}

impl DossierNumber {
    /// Parses a dossier number as typed by a person or copied from a letter.
    pub fn parse(input: &str) -> Result<Self, DossierNumberError> {
        #[derive(PartialEq, Eq)]
        enum Previous {
            Start,
            Digit,
            Separator,
        }

        let mut digits = String::with_capacity(MAX_DIGITS);
        let mut previous = Previous::Start;
        let mut seen_hyphen = false;
        for c in input.trim().chars() {
            match c {
                '0'..='9' => {
                    digits.push(c);
                    previous = Previous::Digit;
                }
                // A separator sits between two digits: after a digit here, before one by the
                // `previous` check on the next character or at the end.
                ' ' | '-' if previous == Previous::Digit => {
                    // Nothing may split the last group, so no space or second hyphen after a
                    // hyphen.
                    if seen_hyphen {
                        return Err(DossierNumberError::InvalidFormat);
                    }
                    seen_hyphen = c == '-';
                    previous = Previous::Separator;
                }
                _ => return Err(DossierNumberError::InvalidFormat),
            }
        }
        if previous == Previous::Separator {
            return Err(DossierNumberError::InvalidFormat);
        }
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()) {
            return Err(DossierNumberError::WrongLength {
                digits: digits.len(),
            });
        }
        Ok(Self(digits))
    }

    /// The canonical form: the digits only.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DossierNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Hides every digit, so a dossier number in a `{:?}` of a request or a row never reaches the
/// logs.
impl fmt::Debug for DossierNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DossierNumber(<redacted>)")
    }
}

impl Serialize for DossierNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(input: &str) -> String {
        DossierNumber::parse(input)
            .unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
            .as_str()
            .to_owned()
    }

    #[test]
    fn accepts_plain_digits() {
        assert_eq!(parsed("12345678"), "12345678");
        assert_eq!(parsed("1234"), "1234");
        assert_eq!(parsed("1234567890"), "1234567890");
    }

    #[test]
    fn keeps_leading_zeros() {
        assert_eq!(parsed("0012345"), "0012345");
    }

    #[test]
    fn accepts_spaces_between_groups_and_hyphen_before_last_group() {
        assert_eq!(parsed("123 456 78"), "12345678");
        assert_eq!(parsed("1234567-8"), "12345678");
        assert_eq!(parsed("123 4567-8"), "12345678");
        assert_eq!(parsed("12-34"), "1234");
    }

    #[test]
    fn trims_surrounding_whitespace() {
        assert_eq!(parsed("  1234567-8\t"), "12345678");
    }

    #[test]
    fn refuses_misplaced_or_doubled_separators() {
        for input in [
            "-12345678",
            "12345678-",
            "1234 - 5678",
            "1234--5678",
            "1234  5678",
            "1234 -5678",
            "1234- 5678",
            "123-456-78",
            "123-456 78",
            "1234\u{a0}5678",
            "1234_5678",
            "1234/5678",
            "+12345678",
        ] {
            assert_eq!(
                DossierNumber::parse(input),
                Err(DossierNumberError::InvalidFormat),
                "{input:?}"
            );
        }
    }

    #[test]
    fn refuses_letters_and_non_ascii_digits() {
        for input in ["UT-12345", "1234567a", "１２３４５６７８", "١٢٣٤٥٦٧٨"] {
            assert_eq!(
                DossierNumber::parse(input),
                Err(DossierNumberError::InvalidFormat),
                "{input:?}"
            );
        }
    }

    #[test]
    fn refuses_too_few_or_too_many_digits() {
        assert_eq!(
            DossierNumber::parse(""),
            Err(DossierNumberError::WrongLength { digits: 0 })
        );
        assert_eq!(
            DossierNumber::parse("12-3"),
            Err(DossierNumberError::WrongLength { digits: 3 })
        );
        assert_eq!(
            DossierNumber::parse("123 456 789-01"),
            Err(DossierNumberError::WrongLength { digits: 11 })
        );
    }

    #[test]
    fn display_and_serialize_give_the_canonical_form() {
        let number = DossierNumber::parse("123 4567-8").unwrap();
        assert_eq!(number.to_string(), "12345678");
        assert_eq!(serde_json::to_string(&number).unwrap(), "\"12345678\"");
    }

    #[test]
    fn debug_hides_every_digit() {
        #[derive(Debug)]
        #[allow(dead_code)] // only read through Debug
        struct Request {
            dossier_number: DossierNumber,
        }
        let request = Request {
            dossier_number: DossierNumber::parse("9876543210").unwrap(),
        };
        let logged = format!("{request:?} {:#?}", request.dossier_number);
        assert!(!logged.chars().any(|c| c.is_ascii_digit()), "{logged}");
        assert!(logged.contains("DossierNumber(<redacted>)"), "{logged}");
    }

    #[test]
    fn error_messages_do_not_echo_the_input() {
        for input in ["98765x", "987"] {
            let message = DossierNumber::parse(input).unwrap_err().to_string();
            assert!(!message.contains("987"), "{message}");
        }
    }

    #[test]
    fn equal_when_written_differently() {
        assert_eq!(
            DossierNumber::parse("1234567-8").unwrap(),
            DossierNumber::parse("123 456 78").unwrap()
        );
    }
}
