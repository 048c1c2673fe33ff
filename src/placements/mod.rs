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

crate::text_enum! {
    pub enum ReviewKind {
        /// Övervägande: is the placement still needed?
        Reconsideration = "reconsideration",
        /// Vårdplan revised.
        CarePlan = "care_plan",
        /// Whether care continues past the 18th birthday: a decision, never automatic.
        ContinuedCareAfter18 = "continued_care_after_18",
    }
}

impl ReviewKind {
    /// Whether a decision of this kind says if the need for care continues.
    pub fn decides_continued_need(self) -> bool {
        matches!(
            self,
            ReviewKind::Reconsideration | ReviewKind::ContinuedCareAfter18
        )
    }
}
