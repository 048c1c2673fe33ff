//! Identity: passwords, second factor, tokens, throttling of failed logins.

pub mod password;
pub mod throttle;
pub mod tokens;
pub mod totp;
