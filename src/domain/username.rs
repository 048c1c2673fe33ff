//! Login names of people and client ids of other systems: short, plain, lowercase.

use crate::error::FieldError;

/// The longest login name (of a person or a client system), in bytes.
pub const MAX_USERNAME_BYTES: usize = 64;

pub fn validate_username(username: &str) -> Result<String, FieldError> {
    let username = username.trim().to_lowercase();
    let valid = (3..=MAX_USERNAME_BYTES).contains(&username.len())
        && username
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(username)
    } else {
        Err(FieldError::new(
            "username",
            "3 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
        ))
    }
}
