//! `validate_username` over arbitrary text.
//!
//! Besides never panicking: an accepted name is 3 to 64 bytes of lowercase ASCII letters,
//! digits, '.', '_' and '-', starting with a letter or digit, and validating it again gives it
//! back unchanged (one name, one spelling).
#![no_main]

use libfuzzer_sys::fuzz_target;
use trygg::domain::username::{validate_username, MAX_USERNAME_BYTES};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(name) = validate_username(text) {
        assert!((3..=MAX_USERNAME_BYTES).contains(&name.len()), "{name:?}");
        assert!(name.as_bytes()[0].is_ascii_alphanumeric());
        assert!(name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)));
        assert_eq!(
            validate_username(&name).ok().as_deref(),
            Some(name.as_str())
        );
        // No control character (NUL above all) survives: the store and the throttle never see one.
        assert!(!name.chars().any(char::is_control));
    }
});
