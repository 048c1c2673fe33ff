//! Organisational units of social services.

pub mod store;
