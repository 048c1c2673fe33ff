//! Facilities: HVB homes and supported housing, each run by a unit, with its capacity, the places
//! agreed with Migrationsverket, its staff, and an address shown only to those who need it.

pub mod input;
pub mod routes;
pub mod store;
pub mod view;

use crate::policy::Profession;

crate::text_enum! {
    pub enum FacilityKind {
        /// HVB (hem för vård eller boende): residential care, a newly arrived child's first home.
        Hvb = "hvb",
        /// Stödboende: housing with support, from 16.
        SupportedHousing = "supported_housing",
    }
}

impl FacilityKind {
    /// The profession of the people who work at a facility of this kind.
    pub fn staff_profession(self) -> Profession {
        match self {
            FacilityKind::Hvb => Profession::HvbStaff,
            FacilityKind::SupportedHousing => Profession::HousingStaff,
        }
    }
}
