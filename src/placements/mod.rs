//! Placements: who lives where. A child has at most one placement on any day, a facility never
//! holds more children than its capacity, and a move ends one placement and starts the next in
//! one transaction. Records are never deleted; a mistake is cancelled with a reason.

pub mod checks;
pub mod input;
pub mod opening;
pub mod placing;
pub mod routes;
pub mod store;
pub mod view;

pub use crate::domain::facility_kind::FacilityKind;

crate::text_enum! {
    pub enum EndReason {
        Moved = "moved",
        ReturnedHome = "returned_home",
        OwnHousing = "own_housing",
        AgeLimit = "age_limit",
        MovedAway = "moved_away",
        Other = "other",
    }
}

pub use crate::domain::decisions::ReviewKind;
