//! The change feed for other systems: what changed (entity, id, kind of change, time), in the
//! audit chain's order, never the data itself.

pub mod routes;
