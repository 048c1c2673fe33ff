//! Login names of people and client ids of other systems: short, plain, lowercase.

use crate::error::FieldError;

pub fn validate_username(username: &str) -> Result<String, FieldError> {
    let username = username.trim().to_lowercase();
    let valid = (3..=64).contains(&username.len())
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
