//! Facilities: HVB homes and supported housing, each run by a unit, with its capacity, the places
//! agreed with Migrationsverket, its staff, and an address shown only to those who need it.

pub mod input;
pub mod routes;
pub mod store;
pub mod view;

pub use crate::domain::facility_kind::FacilityKind;
