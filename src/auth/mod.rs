//! Identity: passwords, second factor, tokens, throttling of failed logins.

pub mod actor;
pub mod login;
pub mod password;
pub mod routes;
pub mod session;
pub mod throttle;
pub mod tokens;
pub mod totp;
