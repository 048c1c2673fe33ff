//! Reports: figures about the service's work, counts only and never about a named child.
//! `capacity`, `compliance` and `committee` are pure computation; `routes` and `store` load
//! their facts in a few queries and audit the read; `view` writes figures as CSV. The committee
//! report leaves the service, so its small counts are suppressed (`domain::suppression`).

pub mod capacity;
pub mod committee;
pub mod compliance;
pub mod routes;
pub mod store;
pub mod view;
