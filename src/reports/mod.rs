//! Reports: figures about the service's work, counts only and never about a named child.
//! `capacity` and `compliance` are pure computation; `routes` and `store` load their facts in a
//! few queries and audit the read.

pub mod capacity;
pub mod compliance;
pub mod routes;
pub mod store;
