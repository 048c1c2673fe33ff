//! Service accounts: other systems (the municipality's finance system, a placement register)
//! that call Trygg with a client id and secret and may do only what their scopes allow.
//! Managed by system administrators; a secret is shown once, when it is made, and stored only
//! as an argon2 hash.

pub mod input;
pub mod routes;
pub mod store;
pub mod view;
