//! Identity: passwords, second factor, tokens, throttling of failed logins.

pub mod actor;
pub mod feed;
pub mod login;
pub mod password;
pub mod profession;
pub mod secret_box;
pub mod session;
pub mod signing_key;
pub mod throttle;
pub mod tokens;
pub mod totp;
