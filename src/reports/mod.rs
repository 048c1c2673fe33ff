//! Reports: figures about the service's work, counts only and never about a named child.
//! `capacity` is pure computation; `routes` loads its facts in a few queries and audits the read.

pub mod capacity;
pub mod routes;
