//! Organisational units of social services.

pub mod routes;
pub mod store;
pub mod view;
