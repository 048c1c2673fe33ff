//! State reimbursement claims (*återsökning*, ordinance 2017:193): per quarter and per child,
//! the days and amounts the municipality claims from Migrationsverket, derived from the
//! placements (`derive`), frozen once submitted.

pub mod derive;
pub mod input;
pub mod routes;
pub mod store;
pub mod view;
